import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
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
import { Progress } from '../parallel/progress.js';
import { createRunner, type MeasuringRunner, type RunSummary } from '../run/runner.js';
import type { GivenRunOptions } from '../run/settings.js';
import { SCHEMA_VERSION, type RunMeta, type RunSettings } from '../results/schema.js';
import { currentSettings, resumedSettings } from './run-settings.js';
import { compilerVersion, hostInfo, projectState } from '../results/system-info.js';
import { qjoin } from '../util/shell.js';
import { createRunDirectory, openRunForResume, readRunMeta, type RunDirectory } from '../results/write.js';
import { buildTarget, type BuildOptions } from './build.js';
import { buildTreeLock, runDirectoryLock } from './lock.js';
import { packageFile } from '../paths.js';

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
  const settings = opts.resume
    ? resumedSettings(opts.resume, readRunMeta(opts.resume), ctx, target, instances, opts)
    : currentSettings(ctx, instanceNames, opts);
  ctx.runSettings = settings;
  if (ctx.dryRun) {
    if (opts.build) await buildTarget(ctx, target, instances, opts);
    return;
  }
  const command = qjoin(['infra', ...process.argv.slice(2)]);
  // a resumed run is refused while another process still writes it
  const runLock = opts.resume ? runDirectoryLock(ctx, opts.resume) : null;
  await runLock?.acquire(command, { ifHeld: 'refuse' });
  // the run holds the build tree shared: clean and build wait until its binaries are no longer run
  const tree = buildTreeLock(ctx);
  try {
    if (opts.build) {
      await tree.acquire(command);
      await buildTarget(ctx, target, instances, opts);
      tree.downgrade(command);
    } else {
      await tree.acquireShared(command);
    }
    const backend = await createBackend(settings.parallel, { ...settings, buildroot: ctx.paths.buildroot, log: ctx.log });
    const { contexts, results } = await prepareRun(ctx, target, instances, opts, settings).catch(async (e: unknown) => {
      // e.g. an instance that cannot be configured: leave no connections or job files behind
      await backend.close();
      throw e;
    });
    const newRunLock = runLock ? null : runDirectoryLock(ctx, results.dir.path);
    try {
      await newRunLock?.acquire(command, { ifHeld: 'refuse' });
      const { summary, aborted } = await measureAll({ ctx, target, instances, contexts, backend, results, settings });
      summarize(ctx, target, instanceNames, results.dir.path, summary, aborted);
    } finally {
      newRunLock?.release();
    }
  } finally {
    tree.release();
    runLock?.release();
  }
}

/** The instances' contexts (configured, prepared to run) and the results directory. */
async function prepareRun(ctx: Context, target: Target, instances: Instance[], opts: RunOptions, settings: RunSettings) {
  const contexts = new Map<Instance, Context>();
  for (const inst of instances) {
    const ictx = await instanceContext(ctx, target, inst);
    await inst.prepareRun(ictx);
    contexts.set(inst, ictx);
  }
  const results = await openResults(ctx, target, instances, contexts, opts, settings);
  return { contexts, results };
}

interface RunParts {
  ctx: Context;
  target: Target;
  instances: Instance[];
  contexts: Map<Instance, Context>;
  backend: ExecutionBackend;
  results: { dir: RunDirectory; completed: Set<string> };
  settings: RunSettings;
}

/** Submits every instance's benchmarks, executes them, and cleans up after the target and backend. */
async function measureAll(run: RunParts): Promise<{ summary: RunSummary; aborted: boolean }> {
  const { ctx, target, instances, contexts, backend } = run;
  const progress = new Progress();
  const pool = new JobPool(backend.capacity, progress);
  // Ctrl-C: queued executions are dropped; the CLI kills the running ones, which are recorded
  const stopWatching = onInterrupt(() => pool.abort());
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
    if (!pool.isAborted) {
      for (const inst of instances) {
        await inst.processRun(contexts.get(inst)!);
        await runHooks(contexts.get(inst)!, target, inst, 'postRun');
      }
    }
    return { summary, aborted: pool.isAborted };
  } finally {
    stopWatching();
    await afterRun(ctx, target, contexts);
    await backend.close();
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

/** Says how the run went; an interrupted run, no benchmarks or failed executions are errors. */
function summarize(ctx: Context, target: Target, instanceNames: string[], path: string, summary: RunSummary, aborted: boolean): void {
  const where = relative(process.cwd(), path) || path;
  if (aborted) {
    // the run's options are stored with it, so the command needs none of them
    throw new InterruptedError(
      `interrupted after ${summary.ok} successful executions; finished results are in ${where}; ` +
        `complete the run with: ${qjoin(['infra', 'run', target.name, ...instanceNames, '--resume', where])}`,
    );
  }
  const skipped = summary.skipped ? `, ${summary.skipped} already recorded` : '';
  ctx.log.info(`${summary.ok} of ${summary.total} executions succeeded${skipped}; results in ${where}`);
  if (summary.total === 0 && summary.skipped === 0) {
    throw new UserError(`target ${target.name} submitted no benchmarks to run (check its options)`);
  }
  if (summary.failed.length > 0) {
    const lines = summary.failed
      .slice(0, 20)
      .map((r) => `  ${r.instance}/${r.benchmark}.${r.iteration}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
    const more = summary.failed.length > 20 ? `\n  ... and ${summary.failed.length - 20} more` : '';
    throw new UserError(`${summary.failed.length} executions failed (recorded in ${where}):\n${lines.join('\n')}${more}`);
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
  opts: RunOptions,
  settings: RunSettings,
): Promise<{ dir: RunDirectory; completed: Set<string> }> {
  if (opts.resume) {
    const resumed = openRunForResume(opts.resume, ctx.log);
    resumed.dir.meta.settings = settings;
    resumed.dir.saveMeta();
    ctx.log.info(`resuming ${opts.resume}: ${resumed.completed.size} executions already recorded`);
    return { dir: resumed.dir, completed: resumed.completed };
  }
  const [host, project] = await Promise.all([hostInfo(), projectState(ctx.paths.root)]);
  const meta: RunMeta = {
    schema: SCHEMA_VERSION,
    tool: { name: 'instrumentation-infra', version: toolVersion() },
    argv: process.argv.slice(2),
    cwd: process.cwd(),
    startedAt: new Date().toISOString(),
    target: target.name,
    project,
    host,
    instances: await Promise.all(
      instances.map(async (inst) => {
        const ictx = contexts.get(inst)!;
        return {
          name: inst.name,
          ccVersion: await compilerVersion(ictx.cc),
          ...inst.describe(ictx),
          runenv: ictx.runenv,
          runWrapper: ictx.targetRunWrapper,
        };
      }),
    ),
    fields: target.reportableFields(),
    settings,
  };
  return { dir: createRunDirectory(ctx.paths.poolResults, meta), completed: new Set() };
}

let version: string | undefined;
function toolVersion(): string {
  version ??= (JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }).version;
  return version;
}
