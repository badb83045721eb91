import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FieldValue } from '../../api.js';
import type { SpecVersion } from './versions.js';

/**
 * The environment SPEC's `shrc` sets up, set directly instead of sourcing it in a shell:
 * `$SPEC`, the harness in front of PATH and its Perl libraries. PATH is layered on the
 * caller's own.
 */
export function harnessEnv(specDir: string): Record<string, string | string[]> {
  const path = (process.env.PATH ?? '').split(':').filter(Boolean);
  return {
    SPEC: specDir,
    PATH: [join(specDir, 'bin'), ...path],
    SPECPERLLIB: [join(specDir, 'bin'), join(specDir, 'bin', 'lib')],
    LC_ALL: 'C',
  };
}

/** Whether `dir` looks like a SPEC installation of this version. */
export function isSpecInstallation(dir: string, version: SpecVersion): boolean {
  return existsSync(join(dir, 'shrc')) && existsSync(join(dir, 'bin', version.harness));
}

/** One benchmark's result as the harness logs it: `Success 401.bzip2 base ref ratio=..., runtime=...`. */
export interface SpecResult {
  /** `Success`, or what the harness says instead (`Error`, `*** Miscompare` ...). */
  status: string;
  benchmark: string;
  workload: string;
  /** Reference time / run time; absent when the harness computed none. */
  ratio?: number;
  /** Seconds as the harness timed the benchmark itself. */
  runtime?: number;
}

const RESULT_LINE = /^\s*(\S+)\s+(\d{3}\.\w+)\s+base\s+(\w+)\s+ratio=([\d.]+|--),\s*runtime=([\d.]+|--)/;
const LOG_LINE = /The log for this run is in (\S+)/;

/** The harness log named on its standard output (the last one if it ran several times). */
export function logPathFromOutput(stdout: string): string | undefined {
  const all = [...stdout.matchAll(new RegExp(LOG_LINE.source, 'g'))];
  return all.at(-1)?.[1];
}

/** Every result line of a harness log, in order. */
export function parseResults(log: string): SpecResult[] {
  const results: SpecResult[] = [];
  for (const line of log.split('\n')) {
    const m = RESULT_LINE.exec(line);
    if (!m) continue;
    const r: SpecResult = { status: m[1]!, benchmark: m[2]!, workload: m[3]! };
    if (m[4] !== '--') r.ratio = Number(m[4]);
    if (m[5] !== '--') r.runtime = Number(m[5]);
    results.push(r);
  }
  return results;
}

/** Lines that explain a failure: miscompares and harness errors. */
export function failureLines(log: string): string[] {
  return log
    .split('\n')
    .filter((l) => /^\s*\*\*\*|^\s*Error\b|Miscompare/.test(l))
    .map((l) => l.trim());
}

/**
 * Reads the outcome of one benchmark from a harness run's standard output and log: the fields
 * to record, or why the execution failed.
 */
export function readOutcome(stdoutPath: string, benchmark: string): { fields?: Record<string, FieldValue>; failure?: string } {
  const stdout = readFileSync(stdoutPath, 'utf8');
  const logPath = logPathFromOutput(stdout);
  if (!logPath) return { failure: `the harness printed no 'The log for this run is in ...' line; see ${stdoutPath}` };
  if (!existsSync(logPath)) return { failure: `the harness log ${logPath} does not exist` };
  const log = readFileSync(logPath, 'utf8');
  const mine = parseResults(log).filter((r) => r.benchmark === benchmark);
  const result = mine.at(-1);
  if (!result) {
    const why = failureLines(log).slice(0, 5).join('; ');
    return { failure: `no result for ${benchmark} in ${logPath}${why ? `: ${why}` : ''}` };
  }
  if (result.status !== 'Success') {
    const why = failureLines(log)
      .filter((l) => !l.startsWith(result.status))
      .slice(0, 3)
      .join('; ');
    return { failure: `${result.status} ${benchmark} (${logPath})${why ? `: ${why}` : ''}` };
  }
  const fields: Record<string, FieldValue> = { workload: result.workload, specLog: logPath };
  if (result.ratio !== undefined) fields.ratio = result.ratio;
  // `runtime` is the framework's measurement (the whole harness invocation)
  if (result.runtime !== undefined) fields.specRuntime = result.runtime;
  return { fields };
}
