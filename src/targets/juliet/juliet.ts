import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type ArgParser,
  BuildStamp,
  type CheckOutcome,
  type Context,
  type ExecutionResult,
  extractArchive,
  type FieldValue,
  type Instance,
  makeDirectory,
  makeJobs,
  parseReportBlocks,
  run,
  removePath,
  type Runner,
  Target,
  UserError,
  writeOutput,
  checkOptions,
} from '../../api.js';
import { availableCwes, discoverTestCases, resolveCwes, type JulietTestCase } from './testcases.js';
import { julietMakefile, RUN_SCRIPT, STDIN_TEXT } from './files.js';

export interface JulietOptions {
  /**
   * The Juliet Test Suite for C/C++: the directory holding `testcases/` and `testcasesupport/`,
   * or the suite's zip/tar archive (extracted into the build directory).
   */
  source: string;
  /**
   * Exit code the mitigation under test exits with when it stops a bad test case; only that
   * code then counts as a detection. Default: any non-zero exit or a crash counts.
   */
  mitigationReturnCode?: number;
  /** Seconds after which a test case counts as hanging (default 10). */
  timeout?: number;
}

export type JulietKind = 'good' | 'bad';

/**
 * The Juliet Test Suite for C/C++ (target `juliet`): for each test case a good program (no bug;
 * built with `-DOMITBAD -DINCLUDEMAIN`) and a bad one (`-DOMITGOOD -DINCLUDEMAIN`), built with the
 * instance's compiler and flags in parallel through a generated Makefile. Each program runs with
 * the same fixed standard input.
 *
 * Every execution is recorded with status `ok` when the test program ran to an outcome (whatever
 * its exit status), with fields `kind` (good/bad), `cwe`, `testcase`, `exitcode` (128+N for a
 * signal N, 124 for a hang) and `passed`: a good program passes when it exits 0 (no false
 * positive); a bad one when it is stopped (a non-zero exit or crash, or exactly
 * `mitigationReturnCode` when given). Detection rates per CWE:
 * `infra report juliet results/last -f passed:sum passed:count --groupby cwe --filter kind=bad`.
 *
 * Options (build and run): `--cwe ID...` (416, CWE416 or an alias such as `uaf`; default every CWE
 * in the source), `--variants NN...` (flow variants, default 01: the one that reliably reaches
 * the bug at run time). Windows-only, wchar_t-only and socket test cases are skipped.
 */
export class Juliet extends Target {
  readonly name = 'juliet';
  override aggregationField = 'cwe';
  readonly source: string;
  readonly mitigationReturnCode: number | undefined;
  readonly timeout: number;

  constructor(options: JulietOptions) {
    super();
    checkOptions('Juliet', options, { source: true, mitigationReturnCode: true, timeout: true });
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- setup scripts in JavaScript may pass anything
    if (!options || typeof options.source !== 'string' || !options.source) {
      throw new UserError("juliet: give the suite's location, e.g. new Juliet({ source: 'juliet-1.3' })");
    }
    const code = options.mitigationReturnCode;
    if (code !== undefined && !(Number.isInteger(code) && code > 0 && code < 256)) {
      throw new UserError(`juliet: mitigationReturnCode must be an exit code from 1 to 255, got ${code}`);
    }
    this.source = options.source;
    this.mitigationReturnCode = code;
    this.timeout = options.timeout ?? 10;
  }

  override addBuildArgs(parser: ArgParser): void {
    parser.option('--cwe <ids...>', 'CWEs to build and run: numbers (416), CWE416 or aliases (uaf, stack-overflow, ...); default all');
    parser.option('--variants <nn...>', 'flow variants (default 01, the one that reliably reaches the bug at run time)');
  }

  override reportableFields(): Record<string, string> {
    return {
      cwe: 'CWE of the test case, e.g. CWE416',
      testcase: 'Juliet test case name',
      kind: 'good (no bug: should exit 0) or bad (has the bug: should be stopped)',
      passed: 'good: exited 0; bad: stopped by the mitigation (sum / count = rate)',
      exitcode: 'exit status of the test program (128+N: killed by signal N; 124: hung)',
    };
  }

  private isArchive(ctx: Context): boolean {
    const src = resolve(ctx.paths.root, this.source);
    return existsSync(src) && !existsSync(join(src, 'testcases')) && /\.(zip|tar(\.\w+)?|tgz)$/.test(src);
  }

  /** The directory holding `testcases/` and `testcasesupport/`. */
  suiteDir(ctx: Context): string {
    if (!this.isArchive(ctx)) return resolve(ctx.paths.root, this.source);
    const extracted = this.path(ctx, 'src');
    // the release zip has one top directory (C/)
    if (existsSync(extracted) && !existsSync(join(extracted, 'testcases'))) {
      const [only] = readdirSync(extracted);
      if (only && existsSync(join(extracted, only, 'testcases'))) return join(extracted, only);
    }
    return extracted;
  }

  isFetched(ctx: Context): boolean {
    return existsSync(join(this.suiteDir(ctx), 'testcasesupport', 'io.c'));
  }

  async fetch(ctx: Context): Promise<void> {
    if (this.isArchive(ctx)) {
      await extractArchive(ctx, resolve(ctx.paths.root, this.source), this.path(ctx, 'src'), { replace: true });
    }
    if (!ctx.dryRun && !this.isFetched(ctx)) {
      throw new UserError(
        `juliet: ${this.suiteDir(ctx)} is not the Juliet suite (no testcasesupport/io.c); give the directory that holds testcases/ and testcasesupport/`,
      );
    }
  }

  /** The test cases `--cwe` and `--variants` select, and those skipped. */
  selection(ctx: Context) {
    const root = this.suiteDir(ctx);
    const available = availableCwes(root);
    const requestedCwes = ctx.listOption('cwe');
    const cwes = requestedCwes?.length ? resolveCwes(requestedCwes, available) : available;
    const variants = ctx.listOption('variants');
    const flows = (variants?.length ? variants : ['01']).map((v: string) => {
      if (!/^\d{1,2}$/.test(v)) throw new UserError(`--variants takes flow variant numbers such as 01 or 12, got '${v}'`);
      return v.padStart(2, '0');
    });
    return discoverTestCases(root, cwes, flows);
  }

  private binDir(ctx: Context, instance: string): string {
    return this.path(ctx, instance);
  }

  /** What a build depends on besides the sources: compared at run time too, so stale programs are never run. */
  private stamp(ctx: Context, instance: string): BuildStamp {
    const config = { ...toolchainOf(ctx), suite: this.suiteDir(ctx), script: RUN_SCRIPT };
    return new BuildStamp(ctx, join(this.binDir(ctx, instance), '.stamp'), config);
  }

  binary(ctx: Context, instance: string, tc: JulietTestCase, kind: JulietKind): string {
    return join(this.binDir(ctx, instance), kind, tc.name);
  }

  async build(ctx: Context, instance: Instance): Promise<void> {
    const { testcases, skipped } = this.selection(ctx);
    if (skipped.length) ctx.log.info(`juliet: skipping ${skipped.length} test case(s) that cannot run here (${summarize(skipped)})`);
    if (!testcases.length) throw new UserError('juliet: no test cases selected (check --cwe and --variants)');
    const dir = this.binDir(ctx, instance.name);
    const stamp = this.stamp(ctx, instance.name);
    if (!stamp.isUpToDate()) removePath(ctx, dir);
    makeDirectory(ctx, join(dir, 'good'));
    makeDirectory(ctx, join(dir, 'bad'));
    writeOutput(ctx, join(dir, 'Makefile'), julietMakefile(this.suiteDir(ctx), testcases, toolchainOf(ctx)));
    ctx.log.info(`building ${testcases.length} juliet test cases (good and bad) for ${instance.name}`);
    // -k: one test case that does not compile (old code, strict compilers) must not stop the rest
    const r = await run(ctx, ['make', ...makeJobs(ctx), '-k', '-f', join(dir, 'Makefile'), 'all'], { cwd: dir, allowError: true });
    if (ctx.dryRun) return;
    const missing = testcases.flatMap((tc) =>
      (['good', 'bad'] as const).filter((k) => !existsSync(this.binary(ctx, instance.name, tc, k))).map((k) => `${tc.name} (${k})`),
    );
    if (missing.length === testcases.length * 2) {
      const tail = r.output.trimEnd().split('\n').slice(-15).join('\n    ');
      throw new UserError(`juliet: no test case built for ${instance.name}; see ${ctx.paths.runlog}\n    ${tail}`);
    }
    if (missing.length)
      ctx.log.warning(
        `juliet: ${missing.length} program(s) did not build for ${instance.name} and are left out: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''} (see ${ctx.paths.runlog})`,
      );
    writeOutput(ctx, join(dir, 'run-test.sh'), RUN_SCRIPT);
    writeOutput(ctx, join(dir, 'stdin.txt'), STDIN_TEXT);
    stamp.record();
  }

  override binaryPaths(ctx: Context, instance: Instance): string[] {
    return this.selection(ctx).testcases.flatMap((tc) => (['good', 'bad'] as const).map((k) => this.binary(ctx, instance.name, tc, k)));
  }

  run(ctx: Context, instance: Instance, runner: Runner): void {
    const { testcases } = this.selection(ctx);
    const dir = this.binDir(ctx, instance.name);
    const what = `juliet: the build for ${instance.name}`;
    this.stamp(ctx, instance.name).refuseIfStale({ what, target: this.name, instance: instance.name });
    // the run script puts the wrapper around the test program, not around itself
    const runCtx = ctx.clone();
    runCtx.targetRunWrapper = [];
    let submitted = 0;
    const notBuilt: string[] = [];
    for (const tc of testcases) {
      for (const kind of ['good', 'bad'] as const) {
        const binary = this.binary(ctx, instance.name, tc, kind);
        if (!existsSync(binary)) {
          notBuilt.push(`${tc.name} (${kind})`);
          continue;
        }
        const cwd = join(dir, 'run', kind, tc.name);
        mkdirSync(cwd, { recursive: true });
        submitted++;
        runner.submit(runCtx, {
          benchmark: `${tc.name}.${kind}`,
          argv: ['/bin/sh', join(dir, 'run-test.sh'), String(this.timeout), ...ctx.targetRunWrapper, binary],
          cwd,
          stdinFile: join(dir, 'stdin.txt'),
          timeout: this.timeout + 30,
          fields: { cwe: `CWE${tc.cwe}`, testcase: tc.name, kind, variant: tc.flow },
          check: (result) => this.judge(result, kind),
        });
      }
    }
    if (!submitted && !ctx.dryRun)
      throw new UserError(`juliet: none of the selected test cases is built for ${instance.name}; build first`);
    if (notBuilt.length && !ctx.dryRun) {
      ctx.log.warning(
        `juliet: ${notBuilt.length} selected program(s) are not built for ${instance.name} and are not run ` +
          `(they failed to build, or were not selected when building): ${notBuilt.slice(0, 5).join(', ')}${notBuilt.length > 5 ? ', ...' : ''}`,
      );
    }
  }

  /** Reads how the test program ended (from the run script's report) and whether that is a pass. */
  judge(result: ExecutionResult, kind: JulietKind): CheckOutcome {
    const block = parseReportBlocks(readFileSync(result.stdoutPath, 'utf8')).find((b) => b.name === 'juliet');
    const exitcode = block?.fields.exitcode;
    if (typeof exitcode !== 'number') return { failure: 'the run script reported no exit code' };
    // the run script says whether the time limit was reached (older scripts: by the exit code)
    const hung = typeof block?.fields.hung === 'number' ? block.fields.hung === 1 : exitcode === 124;
    const passed = julietPassed(kind, exitcode, hung, this.mitigationReturnCode);
    const fields: Record<string, FieldValue> = { exitcode, passed, hung };
    return { fields };
  }
}

/** Whether a good/bad test program's exit status counts as a pass. */
export function julietPassed(kind: JulietKind, exitcode: number, hung: boolean, mitigationReturnCode?: number): boolean {
  if (kind === 'good') return exitcode === 0;
  if (hung) return false;
  return mitigationReturnCode === undefined ? exitcode !== 0 : exitcode === mitigationReturnCode;
}

function toolchainOf(ctx: Context) {
  return { cc: ctx.cc, cxx: ctx.cxx, cflags: ctx.cflags, cxxflags: ctx.cxxflags, ldflags: ctx.ldflags };
}

function summarize(skipped: Array<{ reason: string }>): string {
  const counts = new Map<string, number>();
  for (const s of skipped) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
  return [...counts].map(([r, n]) => `${n} ${r}`).join(', ');
}
