import { existsSync, realpathSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { instanceContext } from '../core/build.js';
import type { Context } from '../core/context.js';
import { InterruptedError, UserError } from '../core/errors.js';
import type { Instance } from '../core/instance.js';
import type { Setup } from '../core/setup.js';
import type { Target } from '../core/target.js';
import { killAll } from '../exec/children.js';
import { onInterrupt } from '../exec/interrupt.js';
import { createBackend } from '../parallel/backends.js';
import { JobPool, type ExecutionBackend } from '../parallel/pool.js';
import { Progress, formatDuration } from '../parallel/progress.js';
import { checkCpusAllowed } from '../run/cpus.js';
import { favourMemoryOverSpeed } from '../run/heap.js';
import { createRunner, type MeasuringRunner, type RunSummary } from '../run/runner.js';
import type { GivenRunOptions } from '../run/settings.js';
import { SCHEMA_VERSION, type RunMeta, type RunSettings } from '../results/schema.js';
import { currentSettings, resumedSettings } from './run-settings.js';
import { compilerVersion, hostInfo, projectState } from '../results/system-info.js';
import { recordEndLoad, startLoad } from '../results/load.js';
import { qjoin } from '../util/shell.js';
import { checkResultsRoot, createRunDirectory, openRunForResume, readRunMeta, type RunDirectory } from '../results/write.js';
import { buildTarget, type BuildOptions } from './build.js';
import { buildTreeLock, runDirectoryLock } from './lock.js';
import type { BuildLock } from '../core/lock.js';
import { packageVersion } from '../paths.js';

export interface RunOptions extends BuildOptions, GivenRunOptions {
  /** Build the target (and its dependencies) first. */
  build?: boolean;
  /**
   * Complete this interrupted results directory instead of starting a new one. The run's own
   * options (iterations, timeout, CPUs, parallelism, the target's and instances' options) are
   * restored; options given again must agree with them, and the instances must be the same.
   */
  resume?: string;
}

/**
 * `infra run TARGET INSTANCE...`: every benchmark the target submits is executed
 * `--iterations` times per instance, measured by the framework and recorded in a new results
 * directory (or the one given to --resume). Every instance's benchmarks are submitted before
 * the first execution starts, and executions of different instances are interleaved. Failed
 * executions are recorded and listed; the command then exits non-zero. The run options are
 * declared in src/run/settings.ts.
 */
export interface RunInput extends RunOptions {
  target: string;
  instances: string[];
}

export async function runCommand(setup: Setup, ctx: Context, opts: RunInput): Promise<void> {
  const { target: targetName, instances: instanceNames } = opts;
  const target = setup.getTarget(targetName);
  const instances = instanceNames.map((n) => setup.getInstance(n));
  // resolved once (benchmarks run in their own working directories) and through results/last,
  // which a later run may repoint while this one writes
  const resume = opts.resume === undefined ? undefined : realRunPath(opts.resume);
  const settings = resume
    ? resumedSettings(opts.resume!, readRunMeta(resume), ctx, target, instances, opts)
    : currentSettings(ctx, instanceNames, opts);
  ctx.runSettings = settings;
  // executions here are pinned by this process's helper: CPUs it may not use are an error now, not per execution
  if (settings.cpus !== undefined && (settings.parallel === undefined || settings.parallel === 'proc')) checkCpusAllowed(settings.cpus);
  if (!resume) checkResultsRoot(ctx.paths.poolResults);
  if (ctx.dryRun) {
    if (opts.build) await buildTarget(ctx, target, instances, opts);
    return;
  }
  // a run may make hundreds of thousands of executions in this process: its memory stays bounded
  favourMemoryOverSpeed();
  const command = qjoin(['infra', ...process.argv.slice(2)]);
  // a resumed run is refused while another process still writes it
  const runLock = resume ? runDirectoryLock(ctx, resume) : null;
  await runLock?.acquire(command, { ifHeld: 'refuse' });
  // the run holds the build tree shared: clean and build wait until its binaries are no longer run
  const tree = buildTreeLock(ctx);
  let newRunLock: { lock: BuildLock; taken: Promise<void> } | undefined;
  try {
    if (opts.build) {
      await tree.acquire(command);
      await buildTarget(ctx, target, instances, opts);
      tree.downgrade(command);
    } else {
      await tree.acquireShared(command);
    }
    const backend = await createBackend(settings.parallel, { ...settings, buildroot: ctx.paths.buildroot, log: ctx.log });
    const { contexts, results } = await prepareRun(ctx, target, instances, { resume, given: opts.resume }, settings).catch(
      async (e: unknown) => {
        // e.g. an instance that cannot be configured: leave no connections or job files behind
        await backend.close();
        throw e;
      },
    );
    const open = results.dir;
    if (typeof open === 'function') {
      results.dir = () => {
        const dir = open();
        // a directory just made: its lock is free, and taken before anything else can see it
        const lock = runDirectoryLock(ctx, dir.path);
        const taken = lock.acquire(command, { ifHeld: 'refuse' });
        taken.catch(() => {}); // awaited below
        newRunLock = { lock, taken };
        return dir;
      };
    }
    const { summary, aborted, wallMs } = await measureAll({ ctx, target, instances, contexts, backend, results, settings });
    await newRunLock?.taken;
    summarize(ctx, target, instanceNames, summary, aborted, wallMs);
  } finally {
    newRunLock?.lock.release();
    tree.release();
    runLock?.release();
  }
}

function realRunPath(given: string): string {
  const path = resolve(given);
  return existsSync(path) ? realpathSync(path) : path;
}

/** `--resume` as given and as an absolute path. */
interface ResumeDir {
  resume: string | undefined;
  given: string | undefined;
}

/** The instances' contexts (configured, prepared to run) and how to open the results directory. */
async function prepareRun(ctx: Context, target: Target, instances: Instance[], resume: ResumeDir, settings: RunSettings) {
  const contexts = new Map<Instance, Context>();
  for (const inst of instances) {
    const ictx = await instanceContext(ctx, target, inst);
    await inst.prepareRun(ictx);
    contexts.set(inst, ictx);
  }
  const results = await openResults(ctx, target, instances, contexts, resume, settings);
  return { contexts, results };
}

interface RunParts {
  ctx: Context;
  target: Target;
  instances: Instance[];
  contexts: Map<Instance, Context>;
  backend: ExecutionBackend;
  /** The run directory (a new one is created only when the first execution is about to start). */
  results: { dir: RunDirectory | (() => RunDirectory); completed: Set<string> };
  settings: RunSettings;
}

/** Submits every instance's benchmarks, executes them, and cleans up after the target and backend. */
async function measureAll(run: RunParts): Promise<{ summary: RunSummary; aborted: boolean; wallMs: number }> {
  const { ctx, target, instances, contexts, backend } = run;
  const progress = new Progress({ slots: backend.runningAtOnce ?? backend.capacity, runningAtOnce: backend.runningAtOnce });
  const pool = new JobPool(backend.capacity, progress);
  // Ctrl-C: queued executions are dropped; the CLI kills the running ones, which are recorded
  const stopWatching = onInterrupt(() => pool.abort());
  let closed: Promise<void> | undefined;
  const closeBackend = () => (closed ??= backend.close());
  try {
    const runner = createRunner({
      runDir: run.results.dir,
      target,
      backend,
      pool,
      settings: run.settings,
      skipKeys: run.results.completed,
      log: ctx.log,
      progress,
    });
    await submitAll(run, runner, pool, progress);
    const summary = await runner.finish();
    // the helpers are reaped first: until then their benchmarks' CPU time is not yet counted
    // as this run's, and the end load would count it as other processes'
    await closeBackend();
    if (summary.path) await recordEndLoad(summary.path, ctx.log);
    if (!pool.isAborted) {
      for (const inst of instances) {
        await inst.processRun(contexts.get(inst)!);
        await runHooks(contexts.get(inst)!, target, inst, 'postRun');
      }
    }
    return { summary, aborted: pool.isAborted, wallMs: progress.elapsedMs() };
  } finally {
    stopWatching();
    await afterRun(ctx, target, contexts);
    await closeBackend();
  }
}

/** Every instance submits before anything runs: one that cannot (e.g. not built) stops the run. */
async function submitAll(
  { target, instances, contexts }: RunParts,
  runner: MeasuringRunner,
  pool: JobPool,
  progress: Progress,
): Promise<void> {
  try {
    for (const inst of instances) {
      const ictx = contexts.get(inst)!;
      await runHooks(ictx, target, inst, 'preRun');
      await target.run(ictx, inst, runner.forInstance(inst.name));
    }
    runner.start();
  } catch (e) {
    pool.abort();
    killAll();
    await pool.drain();
    progress.close();
    throw e;
  }
}

async function afterRun(ctx: Context, target: Target, contexts: Map<Instance, Context>): Promise<void> {
  for (const [inst, ictx] of contexts) {
    try {
      await target.afterRun(ictx, inst);
    } catch (e) {
      ctx.log.warning(`${target.name}: cleaning up after ${inst.name} failed: ${(e as Error).message}`);
    }
  }
}

/**
 * Says how the run went (counts by outcome, wall time, where the results are, the report command
 * to run next); an interrupted run, no benchmarks or failed executions are errors.
 */
function summarize(ctx: Context, target: Target, instanceNames: string[], summary: RunSummary, aborted: boolean, wallMs: number): void {
  const { path } = summary;
  if (path === undefined) {
    if (aborted) throw new InterruptedError('interrupted before the first execution started; nothing was recorded');
    throw new UserError(`target ${target.name} submitted no benchmarks to run (check its options)`);
  }
  const where = relative(process.cwd(), path) || path;
  // the run's options are stored with it, so the command needs none of them
  const resume = qjoin(['infra', 'run', target.name, ...instanceNames, '--resume', where]);
  if (summary.stopped) {
    throw new UserError(
      `${summary.stopped.message}\n  the run was stopped after ${summary.ok} successful executions; their results are kept in ${where}; ` +
        `free space (or make it writable), then complete the run with: ${resume}`,
    );
  }
  if (aborted) {
    throw new InterruptedError(
      `interrupted after ${summary.ok} successful executions; finished results are in ${where}; complete the run with: ${resume}`,
    );
  }
  const skipped = summary.skipped ? `, ${summary.skipped} already recorded` : '';
  const byStatus = new Map<string, number>();
  for (const r of summary.failed) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
  const counts = [`${summary.ok} ok`, ...[...byStatus].map(([status, n]) => `${n} ${status}`)].join(', ');
  ctx.log.info(`${counts} (of ${summary.total} executions${skipped}) in ${formatDuration(wallMs / 1000)}; results in ${where}`);
  if (summary.byHelper) ctx.log.debug(`${summary.byHelper} of the records were written by the measurement helper itself`);
  if (summary.total + summary.skipped > 0) ctx.log.info(`next: ${qjoin(['infra', 'report', target.name, where])}`);
  if (summary.total === 0 && summary.skipped === 0) {
    throw new UserError(`target ${target.name} submitted no benchmarks to run (check its options)`);
  }
  if (summary.failed.length > 0) {
    const lines = summary.failed
      .slice(0, 20)
      .map((r) => `  ${r.instance}/${r.benchmark}.${r.iteration}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
    const more = summary.failed.length > 20 ? `\n  ... and ${summary.failed.length - 20} more` : '';
    const n = summary.failed.length;
    throw new UserError(`${n} execution${n === 1 ? '' : 's'} failed (recorded in ${where}):\n${lines.join('\n')}${more}`);
  }
}

async function runHooks(ctx: Context, target: Target, inst: Instance, which: 'preRun' | 'postRun'): Promise<void> {
  const hooks = ctx.hooks[which];
  if (hooks.length === 0) return;
  for (const bin of await target.binaryPaths(ctx, inst)) for (const hook of hooks) await hook(ctx, bin);
}

async function openResults(
  ctx: Context,
  target: Target,
  instances: Instance[],
  contexts: Map<Instance, Context>,
  { resume, given }: ResumeDir,
  settings: RunSettings,
): Promise<RunParts['results']> {
  if (resume) {
    const resumed = await openRunForResume(resume, ctx.log);
    resumed.dir.meta.settings = settings;
    resumed.dir.meta.load = await startLoad();
    resumed.dir.saveMeta();
    ctx.log.info(`resuming ${given}: ${resumed.completed.size} executions already recorded`);
    return { dir: resumed.dir, completed: resumed.completed };
  }
  const [host, project, load] = await Promise.all([hostInfo(), projectState(ctx.paths.root), startLoad()]);
  const meta: RunMeta = {
    schema: SCHEMA_VERSION,
    tool: { name: 'instrumentation-infra', version: packageVersion() },
    argv: process.argv.slice(2),
    cwd: process.cwd(),
    startedAt: new Date().toISOString(),
    target: target.name,
    project,
    host,
    instances: await Promise.all(
      instances.map(async (inst) => {
        const ictx = contexts.get(inst)!;
        const described = await target.describeRun(ictx, inst);
        return {
          name: inst.name,
          ccVersion: await compilerVersion(ictx.cc),
          ...inst.describe(ictx),
          runenv: ictx.runenv,
          runWrapper: ictx.targetRunWrapper,
          ...(described ? { target: described } : {}),
        };
      }),
    ),
    fields: target.reportableFields(),
    aggregationField: target.aggregationField,
    settings,
    load,
  };
  return { dir: () => createRunDirectory(ctx.paths.poolResults, meta), completed: new Set() };
}
