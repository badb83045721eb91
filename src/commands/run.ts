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
import { createBackend, type RemoteOptions } from '../parallel/backends.js';
import { JobPool } from '../parallel/pool.js';
import { Progress } from '../parallel/progress.js';
import { createRunner, type RunSummary } from '../parallel/runner.js';
import { SCHEMA_VERSION, type RunMeta, type RunSettings } from '../results/schema.js';
import { currentSettings, resumedSettings } from './run-settings.js';
import { compilerVersion, hostInfo, projectState } from '../results/system-info.js';
import { qjoin } from '../util/shell.js';
import { createRunDirectory, openRunForResume, readRunMeta, type RunDirectory } from '../results/write.js';
import { buildTarget, type BuildOptions } from './build.js';
import { withBuildLock } from './lock.js';
import { packageFile } from '../paths.js';

export interface RunOptions extends BuildOptions, RemoteOptions {
  /** Build the target (and its dependencies) first. */
  build?: boolean;
  /** Executions per benchmark (default 1; on --resume, the run's own). */
  iterations?: number;
  /**
   * Complete this interrupted results directory instead of starting a new one. The run's own
   * options (iterations, timeout, CPUs, parallelism, the target's and instances' options) are
   * restored; options given again must agree with them, and the instances must be the same.
   */
  resume?: string;
  /** Seconds after which an execution's whole process tree is killed. */
  timeout?: number;
  /** Unrecorded executions of each benchmark before the measured ones. */
  warmup?: number;
  /** Seconds processes left running after the main process exits get before they are killed. */
  linger?: number;
  /** CPUs to pin executions to, e.g. "1" or "0,1". */
  cpus?: string;
  /** Run with transparent huge pages disabled. */
  nothp?: boolean;
  /**
   * Executions at once with --parallel (default: the number of cores for proc, 1 per node for
   * ssh, 64 jobs for slurm and prun; 1 without --parallel).
   */
  parallelmax?: number;
}

/**
 * `infra run TARGET INSTANCE...`: every benchmark the target submits is executed
 * `--iterations` times per instance, measured by the framework and recorded in a new results
 * directory (or the one given to --resume). Every instance's benchmarks are submitted before
 * the first execution starts, and executions of different instances are interleaved. Failed
 * executions are recorded and listed; the command then exits non-zero.
 */
export async function runCommand(setup: Setup, ctx: Context, targetName: string, instanceNames: string[], opts: RunOptions): Promise<void> {
  const target = setup.getTarget(targetName);
  const instances = instanceNames.map((n) => setup.getInstance(n));
  const settings = opts.resume
    ? resumedSettings(opts.resume, readRunMeta(opts.resume), ctx, target, instances, opts)
    : currentSettings(ctx, instanceNames, opts);
  if (opts.build) {
    await withBuildLock(ctx, `run --build ${targetName} ${instanceNames.join(' ')}`, () => buildTarget(ctx, target, instances, opts));
  }
  if (ctx.dryRun) return;
  const backend = await createBackend(settings.parallel, {
    buildroot: ctx.paths.buildroot,
    parallelmax: settings.parallelmax,
    // given again they win (e.g. other nodes for the rest of a run); else the run's own
    sshNodes: opts.sshNodes ?? settings.remote?.sshNodes,
    slurmOpts: opts.slurmOpts ?? settings.remote?.slurmOpts,
    prunOpts: opts.prunOpts ?? settings.remote?.prunOpts,
    log: ctx.log,
  });
  const contexts = new Map<Instance, Context>();
  let runDir: Awaited<ReturnType<typeof openResults>>;
  try {
    for (const inst of instances) {
      const ictx = await instanceContext(ctx, target, inst);
      await inst.prepareRun(ictx);
      contexts.set(inst, ictx);
    }
    runDir = await openResults(ctx, target, instances, contexts, opts, settings);
  } catch (e) {
    // e.g. an instance that cannot be configured: leave no connections or job files behind
    await backend.close();
    throw e;
  }
  const progress = new Progress();
  const pool = new JobPool(backend.capacity, progress);
  // Ctrl-C: queued executions are dropped; the CLI kills the running ones, which are recorded
  const stopWatching = onInterrupt(() => pool.abort());
  let summary: RunSummary;
  try {
    const runner = createRunner({
      runDir: runDir.dir,
      target,
      backend,
      pool,
      iterations: settings.iterations,
      warmup: settings.warmup,
      timeout: settings.timeout,
      cpus: settings.cpus,
      noThp: settings.nothp,
      linger: settings.linger,
      skipKeys: runDir.completed,
      log: ctx.log,
      progress,
    });
    try {
      // every instance submits before anything runs: one that cannot (e.g. not built) stops the run
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
    summary = await runner.finish();
    if (!pool.isAborted) {
      for (const inst of instances) {
        const ictx = contexts.get(inst)!;
        await inst.processRun(ictx);
        await runHooks(ictx, target, inst, 'postRun');
      }
    }
  } finally {
    stopWatching();
    for (const [inst, ictx] of contexts) {
      try {
        await target.afterRun(ictx, inst);
      } catch (e) {
        ctx.log.warning(`${target.name}: cleaning up after ${inst.name} failed: ${(e as Error).message}`);
      }
    }
    await backend.close();
  }
  const where = relative(process.cwd(), runDir.dir.path) || runDir.dir.path;
  if (pool.isAborted) {
    // the run's options are stored with it, so the command needs none of them
    throw new InterruptedError(
      `interrupted after ${summary.ok} successful executions; finished results are in ${where}; ` +
        `complete the run with: ${qjoin(['infra', 'run', targetName, ...instanceNames, '--resume', where])}`,
    );
  }
  const skipped = summary.skipped ? `, ${summary.skipped} already recorded` : '';
  ctx.log.info(`${summary.ok} of ${summary.total} executions succeeded${skipped}; results in ${where}`);
  if (summary.total === 0 && summary.skipped === 0) {
    throw new UserError(`target ${targetName} submitted no benchmarks to run (check its options)`);
  }
  if (summary.failed.length > 0) {
    const lines = summary.failed.slice(0, 20).map((r) => `  ${r.instance}/${r.benchmark}.${r.iteration}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
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
    iterations: settings.iterations,
    parallel: settings.parallel ?? 'serial',
    parallelmax: settings.parallelmax,
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
    settings,
  };
  return { dir: createRunDirectory(ctx.paths.poolResults, meta), completed: new Set() };
}

let version: string | undefined;
function toolVersion(): string {
  version ??= JSON.parse(readFileSync(packageFile('package.json'), 'utf8')).version as string;
  return version;
}
