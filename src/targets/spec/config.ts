import { type Context, qjoin } from '../../api.js';
import type { SpecVersion } from './versions.js';

/** Config name (`--config`) and label (`ext`/`label`) of an instance's builds. */
export function configName(instance: string): string {
  return `infra-${instance}`;
}

export interface ConfigInput {
  version: SpecVersion;
  instance: string;
  /** `makeflags` value: `-jN`, or empty when a jobserver hands out the job slots. */
  makeflags: string;
  /** Goes in front of every benchmark command SPEC runs (`monitor_wrapper`). */
  wrapper: string[];
  /** A digest of `ctx.buildInputs`; recorded so a changed pass plugin is visible in the file. */
  buildInputs: string;
}

/**
 * The SPEC config file for an instance: its compilers and flags, a private label so every
 * instance gets its own binaries and run directories, no reportable runs, output teed to the
 * terminal, and the portability flags today's compilers need.
 */
export function renderConfig(ctx: Context, input: ConfigInput): string {
  const { version, instance } = input;
  const label = configName(instance);
  const line = (k: string, v: string) => `${k.padEnd(22)} = ${v}`.trimEnd();
  const out = [
    `# SPEC ${version.suiteName} configuration of instance '${instance}', written by instrumentation-infra.`,
    '# Rewritten on every build and run: change the instance, not this file.',
    `# build inputs: ${input.buildInputs}`,
    line(version.labelKey, label),
    line('tune', 'base'),
    line('reportable', 'no'),
    line('teeout', 'yes'),
    line('makeflags', input.makeflags),
    line('strict_rundir_verify', 'no'),
    line('ignore_errors', 'no'),
    line('output_format', 'text'),
  ];
  // SPEC substitutes $command with the benchmark's own command line
  if (input.wrapper.length) out.push(line('monitor_wrapper', `${qjoin(input.wrapper)} $command`));
  out.push('', version.defaultSection);
  const settings: Record<string, string> = {
    CC: ctx.cc,
    CXX: ctx.cxx,
    FC: ctx.fc,
    ...version.extraSettings,
    COPTIMIZE: qjoin(ctx.cflags),
    CXXOPTIMIZE: qjoin(ctx.cxxflags),
    FOPTIMIZE: qjoin(ctx.fcflags),
    EXTRA_LDFLAGS: qjoin(ctx.ldflags),
    PORTABILITY: qjoin(version.portability.all),
  };
  for (const [k, v] of Object.entries(settings)) out.push(line(k, v));
  for (const [bench, langs] of Object.entries(version.portability.perBenchmark)) {
    out.push('', version.benchmarkSection(bench));
    for (const [lang, flags] of Object.entries(langs)) out.push(line(`${lang}PORTABILITY`, qjoin(flags(ctx.arch))));
  }
  return out.join('\n') + '\n';
}
