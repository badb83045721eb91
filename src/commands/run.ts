import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { instanceContext } from '../core/build.js';
import type { Context } from '../core/context.js';
import { InterruptedError, UserError } from '../core/errors.js';
import type { Instance } from '../core/instance.js';
import type { Setup } from '../core/setup.js';
import type { Target } from '../core/target.js';
import { createLocalBackend } from '../parallel/local.js';
import { JobPool } from '../parallel/pool.js';
import { Progress } from '../parallel/progress.js';
import { createRunner, type RunSummary } from '../parallel/runner.js';
import { SCHEMA_VERSION, type RunMeta } from '../results/schema.js';
import { compilerVersion, hostInfo, projectState } from '../results/system-info.js';
import { createRunDirectory, openRunForResume, type RunDirectory } from '../results/write.js';
import { buildTarget, type BuildOptions } from './build.js';
import { withBuildLock } from './lock.js';

export interface RunOptions extends BuildOptions {
  /** Build the target (and its dependencies) first. */
  build?: boolean;
  /** Executions per benchmark (default 1). */
  iterations?: number;
  /** Complete this interrupted results directory instead of starting a new one. */
  resume?: string;
  /** Seconds after which an execution's whole process tree is killed. */
  timeout?: number;
  /** CPUs to pin executions to, e.g. "1" or "0,1". */
  cpus?: string;
  /** Run with transparent huge pages disabled. */
  nothp?: boolean;
}

/**
 * `infra run TARGET INSTANCE...`: every benchmark the target submits is executed
 * `--iterations` times per instance, measured by the framework and recorded in a new results
 * directory (or the one given to --resume). Failed executions are recorded and listed; the
 * command then exits non-zero.
 */
export async function runCommand(setup: Setup, ctx: Context, targetName: string, instanceNames: string[], opts: RunOptions): Promise<void> {
  const target = setup.getTarget(targetName);
  const instances = instanceNames.map((n) => setup.getInstance(n));
  if (opts.build) {
    await withBuildLock(ctx, `run --build ${targetName} ${instanceNames.join(' ')}`, () => buildTarget(ctx, target, instances, opts));
  }
  if (opts.dryRun) return;
  const parallelmax = opts.parallel ? opts.parallelmax ?? availableParallelism() : 1;
  const backend = await createLocalBackend({ buildroot: ctx.paths.buildroot, parallelmax });
  const contexts = new Map<Instance, Context>();
  for (const inst of instances) {
    const ictx = await instanceContext(ctx, target, inst);
    await inst.prepareRun(ictx);
    contexts.set(inst, ictx);
  }
  const runDir = await openResults(ctx, target, instances, contexts, opts, parallelmax);
  const progress = new Progress();
  const pool = new JobPool(backend.capacity, progress);
  const onSignal = () => pool.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let summary: RunSummary;
  try {
    const runner = createRunner({
      runDir: runDir.dir,
      target,
      backend,
      pool,
      iterations: opts.iterations ?? 1,
      timeout: opts.timeout,
      cpus: opts.cpus,
      noThp: opts.nothp,
      skipKeys: runDir.completed,
      log: ctx.log,
      progress,
    });
    for (const inst of instances) {
      const ictx = contexts.get(inst)!;
      await runHooks(ictx, target, inst, 'preRun');
      await target.run(ictx, inst, runner.forInstance(inst.name));
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
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await backend.close();
  }
  const where = relative(process.cwd(), runDir.dir.path) || runDir.dir.path;
  if (pool.isAborted) {
    throw new InterruptedError(
      `interrupted after ${summary.ok} successful executions; finished results are in ${where}; ` +
        `complete the run with: infra run ${targetName} ${instanceNames.join(' ')} --resume ${where}`,
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
  parallelmax: number,
): Promise<{ dir: RunDirectory; completed: Set<string> }> {
  if (opts.resume) {
    const resumed = openRunForResume(opts.resume, ctx.log);
    if (resumed.dir.meta.target !== target.name) {
      throw new UserError(`cannot resume ${opts.resume}: it holds results of target '${resumed.dir.meta.target}', not '${target.name}'`);
    }
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
    iterations: opts.iterations ?? 1,
    parallel: opts.parallel ?? 'serial',
    parallelmax,
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
  };
  return { dir: createRunDirectory(ctx.paths.poolResults, meta), completed: new Set() };
}

let version: string | undefined;
function toolVersion(): string {
  version ??= JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
  return version;
}
