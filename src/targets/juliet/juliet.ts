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
  formatRuntimeOptions,
  type Instance,
  makeDirectory,
  makeJobs,
  parseReportBlocks,
  parseRuntimeOptions,
  positiveInt,
  run,
  removePath,
  type Runner,
  Target,
  type TargetReportInput,
  type TargetReportTable,
  UserError,
  userRuntimeOptions,
  writeOutput,
  checkOptions,
} from '../../api.js';
import { availableCwes, discoverTestCases, resolveCwes, type JulietTestCase } from './testcases.js';
import { FAMILY_RULES, JULIET_FAMILIES, LEAK_CWES, REQUIRED_OPTIONS, type JulietFamily } from './cwes.js';
import { julietMakefile, MAIN_SOURCE, RUN_SCRIPT, STDIN_TEXT, type Toolchain } from './files.js';
import { classifyEnding, verdictOf } from './outcome.js';
import { julietReportTable, type JulietRunDescription, type SelectionCount } from './summary.js';

/** Options of {@link Juliet}. */
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

/** Which variant of a Juliet test case: the flawed one or the fixed one. */
export type JulietKind = 'good' | 'bad';

/** Sanitizer run-time option variables recorded with each execution (those of the instance's sanitizers). */
const OPTION_VARIABLES: Record<string, string> = {
  address: 'ASAN_OPTIONS',
  leak: 'LSAN_OPTIONS',
  undefined: 'UBSAN_OPTIONS',
  memory: 'MSAN_OPTIONS',
  thread: 'TSAN_OPTIONS',
  hwaddress: 'HWASAN_OPTIONS',
};

/** The test cases a build or run selects, and why the others are left out. */
export interface JulietSelection {
  testcases: JulietTestCase[];
  excluded: Array<{ tc: Pick<JulietTestCase, 'name' | 'cwe' | 'flow'>; reason: string }>;
}

/**
 * The Juliet Test Suite for C/C++ (target `juliet`): each test case file is compiled once per
 * instance (good and bad code in one object) and linked twice with a small main: a good program
 * calling only the good entry and a bad one calling only the bad entry (class-based cases: the
 * `_good1`... files and the `_bad` file; multi-file cases: all parts). Built at -O0 by default
 * (the instance's other flags, sanitizers and passes apply; `--optlevel instance` keeps its
 * level), in parallel through a generated Makefile. Each program runs with the same fixed
 * standard input.
 *
 * Every execution is recorded with status `ok` when the program ran to an outcome, with fields
 * `kind`, `cwe`, `testcase`, `variant`, `optlevel`, `ending` (how it ended: sanitizer,
 * mitigation, signal, exit, timeout, clean; with `sanitizer`, `error` and `signal`), `verdict`
 * (bad: detected, crashed, hung, missed; good: clean, false-positive, failed), `passed` (good:
 * clean; bad: detected) and `sanitizerOptions` (the options in force). `infra report juliet
 * results/last` summarises them per CWE and instance.
 *
 * Options (build and run): `--cwe`, `--variants NN... | all` (default 01), `--optlevel`,
 * `--include FAMILY...` (input-dependent, nondeterministic, not-a-bug-here: left out by
 * default), `--rand-runs N`, `--skip-wchar`. Windows-only and socket test cases are skipped.
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
    parser.option('--variants <nn...>', "flow variants, or 'all' (default 01, the one that reliably reaches the bug at run time)");
    parser.option('--optlevel <level>', "optimisation level the test cases are built at, or 'instance' for the instance's own", {
      default: '0',
      choices: ['0', '1', '2', '3', 's', 'g', 'instance'],
    });
    parser.option('--include <families...>', `also run these families, left out by default: ${JULIET_FAMILIES.join(', ')}`);
    parser.option('--rand-runs <n>', 'runs of each nondeterministic (rand) program when included (default 5)', {
      parse: positiveInt('--rand-runs'),
    });
    parser.option('--skip-wchar', 'leave out wchar_t test cases (as harnesses that do not run them)');
  }

  override reportableFields(): Record<string, string> {
    return {
      cwe: 'CWE of the test case, e.g. CWE416',
      testcase: 'Juliet test case name',
      variant: 'flow variant (01, 54, ...)',
      kind: 'good (no bug: should exit 0) or bad (has the bug: should be stopped)',
      family: 'input-dependent, nondeterministic or not-a-bug-here, for cases of those families',
      optlevel: 'optimisation level the program was built at (-O0 ...)',
      ending: 'how the program ended: sanitizer, mitigation, signal, exit, timeout, clean',
      sanitizer: 'sanitizer whose report ended the program (address, leak, undefined, ...)',
      error: 'error kind the sanitizer reported (heap-buffer-overflow, double-free, memory-leak, ...)',
      signal: 'signal that ended the program (also when a sanitizer handler caught it)',
      verdict: 'bad: detected, crashed, hung, missed; good: clean, false-positive, failed',
      passed: 'good: exited cleanly; bad: stopped by the instrumentation (sum / count = rate)',
      exitcode: 'exit status of the test program (128+N: killed by signal N; 124: hung)',
      sanitizerOptions: "sanitizer options in force (the instance's, Juliet's, the user's environment)",
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

  private included(ctx: Context): Set<JulietFamily> {
    const given = ctx.listOption('include') ?? [];
    const bad = given.filter((f) => f !== 'all' && !(JULIET_FAMILIES as readonly string[]).includes(f));
    if (bad.length) throw new UserError(`--include takes ${JULIET_FAMILIES.join(', ')} or all; got ${bad.join(', ')}`);
    return new Set(given.includes('all') ? JULIET_FAMILIES : (given as JulietFamily[]));
  }

  /** The test cases the options select, and those left out with the reason. */
  selection(ctx: Context): JulietSelection {
    const root = this.suiteDir(ctx);
    const available = availableCwes(root);
    const requestedCwes = ctx.listOption('cwe');
    const cwes = requestedCwes?.length ? resolveCwes(requestedCwes, available) : available;
    const variants = ctx.listOption('variants');
    const flows =
      variants?.length === 1 && variants[0] === 'all'
        ? 'all'
        : (variants?.length ? variants : ['01']).map((v: string) => {
            if (!/^\d{1,2}$/.test(v)) throw new UserError(`--variants takes flow variant numbers such as 01 or 12, or 'all'; got '${v}'`);
            return v.padStart(2, '0');
          });
    const { testcases, skipped } = discoverTestCases(root, cwes, flows);
    const include = this.included(ctx);
    const skipWchar = ctx.flag('skipWchar');
    const out: JulietSelection = { testcases: [], excluded: skipped.map((s) => ({ tc: s, reason: s.reason })) };
    for (const tc of testcases) {
      if (tc.family && !include.has(tc.family)) out.excluded.push({ tc, reason: tc.family });
      else if (skipWchar && tc.wchar) out.excluded.push({ tc, reason: 'wchar_t' });
      else out.testcases.push(tc);
    }
    return out;
  }

  private binDir(ctx: Context, instance: string): string {
    return this.path(ctx, instance);
  }

  /** The instance's toolchain with the optimisation level `--optlevel` asks for. */
  toolchain(ctx: Context): Toolchain {
    const level = ctx.stringOption('optlevel') ?? '0';
    const t = { cc: ctx.cc, cxx: ctx.cxx, cflags: [...ctx.cflags], cxxflags: [...ctx.cxxflags], ldflags: [...ctx.ldflags] };
    if (level === 'instance') return t;
    const relevel = (flags: string[], always: boolean) => {
      const had = flags.some((f) => /^-O/.test(f));
      const kept = flags.filter((f) => !/^-O/.test(f));
      return had || always ? [...kept, `-O${level}`] : kept;
    };
    return { ...t, cflags: relevel(t.cflags, true), cxxflags: relevel(t.cxxflags, true), ldflags: relevel(t.ldflags, false) };
  }

  /** What a build depends on besides the sources: compared at run time too, so stale programs are never run. */
  private stamp(ctx: Context, instance: string): BuildStamp {
    const config = { ...this.toolchain(ctx), suite: this.suiteDir(ctx), script: RUN_SCRIPT, main: MAIN_SOURCE.text };
    return new BuildStamp(ctx, join(this.binDir(ctx, instance), '.stamp'), config);
  }

  /** The path of a test case's built program for an instance. */
  binary(ctx: Context, instance: string, tc: JulietTestCase, kind: JulietKind): string {
    return join(this.binDir(ctx, instance), kind, tc.name);
  }

  async build(ctx: Context, instance: Instance): Promise<void> {
    const { testcases, excluded } = this.selection(ctx);
    if (excluded.length) ctx.log.info(`juliet: leaving out ${excluded.length} test case(s) (${summarize(excluded)})`);
    if (!testcases.length) throw new UserError('juliet: no test cases selected (check --cwe, --variants and --include)');
    const dir = this.binDir(ctx, instance.name);
    const stamp = this.stamp(ctx, instance.name);
    if (!stamp.isUpToDate()) removePath(ctx, dir);
    for (const sub of ['good', 'bad', 'obj', 'support']) makeDirectory(ctx, join(dir, sub));
    writeOutput(ctx, join(dir, MAIN_SOURCE.file), MAIN_SOURCE.text);
    const toolchain = this.toolchain(ctx);
    writeOutput(ctx, join(dir, 'Makefile'), julietMakefile(this.suiteDir(ctx), testcases, toolchain));
    ctx.log.info(`building ${testcases.length} juliet test cases (good and bad) for ${instance.name} at ${optlevelOf(toolchain)}`);
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

  /** The sanitizers the instance builds with (`-fsanitize=`; address includes leak detection). */
  sanitizers(ctx: Context): string[] {
    const on = new Set<string>();
    for (const f of ctx.cflags) {
      const m = /^-f(no-)?sanitize=(.+)$/.exec(f);
      if (!m) continue;
      for (const name of m[2]!.split(',')) {
        if (m[1]) on.delete(name);
        else on.add(name);
      }
    }
    if (on.has('address')) on.add('leak');
    return [...on].filter((n) => n in OPTION_VARIABLES || ['undefined', 'null', 'bounds'].includes(n));
  }

  /** The extra environment of a test case's programs: leak CWEs run with leak detection on (unless the user turned it off). */
  private caseEnv(ctx: Context, tc: JulietTestCase): Record<string, string> {
    if (!LEAK_CWES.includes(tc.cwe) || !this.sanitizers(ctx).includes('address')) return {};
    const current = ctx.runenv.ASAN_OPTIONS;
    const options = {
      ...parseRuntimeOptions(Array.isArray(current) ? current.join(':') : (current ?? process.env.ASAN_OPTIONS)),
      detect_leaks: 1,
      ...userRuntimeOptions('ASAN_OPTIONS'),
    };
    return { ASAN_OPTIONS: formatRuntimeOptions(options) };
  }

  /** The sanitizer options in force for a test case's programs, as `VAR=a=1:b=2` words. */
  private optionsInForce(ctx: Context, env: Record<string, string>): string {
    const variables = new Set(this.sanitizers(ctx).map((s) => OPTION_VARIABLES[s] ?? 'UBSAN_OPTIONS'));
    return [...variables]
      .sort()
      .flatMap((v) => {
        const runenv = ctx.runenv[v];
        const value = env[v] ?? (Array.isArray(runenv) ? runenv.join(':') : runenv) ?? process.env[v];
        return value === undefined ? [] : [`${v}=${value}`];
      })
      .join(' ');
  }

  /** CWEs of the selection the instance's sanitizer options cannot catch (e.g. CWE762 with alloc_dealloc_mismatch=0). */
  private blind(ctx: Context, testcases: JulietTestCase[]): Array<{ cwe: number; because: string }> {
    const sanitizers = this.sanitizers(ctx);
    const out: Array<{ cwe: number; because: string }> = [];
    for (const need of REQUIRED_OPTIONS) {
      const tc = testcases.find((t) => t.cwe === need.cwe);
      if (!tc || !sanitizers.includes(need.sanitizer)) continue;
      const env = this.caseEnv(ctx, tc);
      const runenv = ctx.runenv[need.variable];
      const value = parseRuntimeOptions(
        env[need.variable] ?? (Array.isArray(runenv) ? runenv.join(':') : runenv) ?? process.env[need.variable],
      )[need.option];
      if (value !== undefined && ['0', 'false', 'no'].includes(String(value)))
        out.push({ cwe: need.cwe, because: `${need.option}=${value}` });
    }
    return out;
  }

  override describeRun(ctx: Context, instance: Instance): JulietRunDescription {
    const { testcases, excluded } = this.selection(ctx);
    const counts = new Map<string, SelectionCount>();
    const count = (cwe: number, flow: string) => {
      const key = `${cwe}/${flow}`;
      let c = counts.get(key);
      if (!c) counts.set(key, (c = { cwe: `CWE${cwe}`, variant: flow, found: 0, built: 0, excluded: {} }));
      c.found++;
      return c;
    };
    for (const { tc, reason } of excluded) {
      const c = count(tc.cwe, tc.flow);
      c.excluded[reason] = (c.excluded[reason] ?? 0) + 1;
    }
    for (const tc of testcases) {
      const c = count(tc.cwe, tc.flow);
      if ((['good', 'bad'] as const).every((k) => existsSync(this.binary(ctx, instance.name, tc, k)))) c.built++;
    }
    return {
      optlevel: optlevelOf(this.toolchain(ctx)),
      sanitizers: this.sanitizers(ctx),
      randRuns: this.randRuns(ctx),
      selection: [...counts.values()],
      blind: this.blind(ctx, testcases).map((b) => ({ cwe: `CWE${b.cwe}`, because: b.because })),
      reasons: Object.fromEntries(
        JULIET_FAMILIES.map((f) => [
          f,
          FAMILY_RULES.filter((r) => r.family === f)
            .map((r) => r.why)
            .join('; '),
        ]),
      ),
    };
  }

  private randRuns(ctx: Context): number {
    return ctx.numberOption('randRuns') ?? 5;
  }

  run(ctx: Context, instance: Instance, runner: Runner): void {
    const { testcases } = this.selection(ctx);
    const dir = this.binDir(ctx, instance.name);
    const what = `juliet: the build for ${instance.name}`;
    this.stamp(ctx, instance.name).refuseIfStale({ what, target: this.name, instance: instance.name });
    // the run script puts the wrapper around the test program, not around itself
    const runCtx = ctx.clone();
    runCtx.targetRunWrapper = [];
    const optlevel = optlevelOf(this.toolchain(ctx));
    for (const b of this.blind(ctx, testcases)) {
      ctx.log.warning(`juliet: ${instance.name} cannot detect CWE${b.cwe} with ${b.because}; the report marks it`);
    }
    let submitted = 0;
    const notBuilt: string[] = [];
    for (const tc of testcases) {
      const env = this.caseEnv(ctx, tc);
      const sanitizerOptions = this.optionsInForce(ctx, env);
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
          env,
          stdinFile: join(dir, 'stdin.txt'),
          timeout: this.timeout + 30,
          ...(tc.family === 'nondeterministic' ? { iterations: this.randRuns(ctx) } : {}),
          fields: {
            cwe: `CWE${tc.cwe}`,
            testcase: tc.name,
            kind,
            variant: tc.flow,
            optlevel,
            sanitizerOptions,
            ...(tc.family ? { family: tc.family } : {}),
          },
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

  /** Reads how the test program ended (the run script's report and its standard error) and what that means. */
  judge(result: ExecutionResult, kind: JulietKind): CheckOutcome {
    const block = parseReportBlocks(readFileSync(result.stdoutPath, 'utf8')).find((b) => b.name === 'juliet');
    const exitcode = block?.fields.exitcode;
    if (typeof exitcode !== 'number') return { failure: 'the run script reported no exit code' };
    // the run script says whether the time limit was reached (older scripts: by the exit code)
    const hung = typeof block?.fields.hung === 'number' ? block.fields.hung === 1 : exitcode === 124;
    const stderr = existsSync(result.stderrPath) ? readFileSync(result.stderrPath, 'utf8') : '';
    const ending = classifyEnding(exitcode, hung, stderr, this.mitigationReturnCode);
    const verdict = verdictOf(kind, ending.ending);
    const fields: Record<string, FieldValue> = {
      exitcode,
      hung,
      ending: ending.ending,
      sanitizer: ending.sanitizer ?? null,
      error: ending.error ?? null,
      signal: ending.signal ?? null,
      verdict,
      passed: verdict === 'detected' || verdict === 'clean',
    };
    return { fields };
  }

  override reportTable(input: TargetReportInput): TargetReportTable | undefined {
    return julietReportTable(input);
  }
}

/** Whether a good/bad test program's ending counts as a pass (good: clean exit; bad: stopped by the instrumentation). */
export function julietPassed(kind: JulietKind, exitcode: number, hung: boolean, stderr = '', mitigationReturnCode?: number): boolean {
  const verdict = verdictOf(kind, classifyEnding(exitcode, hung, stderr, mitigationReturnCode).ending);
  return verdict === 'detected' || verdict === 'clean';
}

/** The `-O` level a toolchain compiles at (the last one given; none is -O0). */
function optlevelOf(t: Toolchain): string {
  return [...t.cflags].reverse().find((f) => /^-O/.test(f)) ?? '-O0';
}

function summarize(excluded: JulietSelection['excluded']): string {
  const counts = new Map<string, number>();
  for (const s of excluded) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
  return [...counts].map(([r, n]) => `${n} ${r}`).join(', ');
}
