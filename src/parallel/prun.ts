import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { DEFAULT_LINGER_SECONDS, ensureMeasureHelper, type MeasureSpec } from '../exec/measure.js';
import type { BackendResult, ExecutionBackend } from './pool.js';
import { createRunStateDir } from './leftovers.js';
import { clockTime, errorResult, runClient, splitWords } from './remote.js';
import { BatchQueue, type QueuedExecution } from './batch.js';
import { BatchJob } from './batch-job.js';

export interface PrunBackendOptions {
  /** Build directory: the helper and the job files live in `<buildroot>/.infra`. */
  buildroot: string;
  /** Node reservations at once, pending or running (default 64, as on DAS-5). */
  parallelmax?: number;
  /** Executions per reservation (`--batch-size`); default: from their expected duration (src/parallel/batch.ts). */
  batchSize?: number;
  /** Extra `prun` options as one string, e.g. `"-asocial -t 30:00"`; `-np N` spreads each batch over N nodes. */
  prunOpts?: string;
  log: Logger;
  /** Milliseconds between checks for finished executions (default 250). */
  pollInterval?: number;
}

/**
 * Runs executions on cluster nodes reserved with `prun` (`--parallel prun`, the DAS
 * clusters), several per reservation: `prun -np N [-t TIME] PRUN_OPTS /bin/sh JOB` reserves N
 * nodes (1 unless `--prun-opts` has `-np N`) and runs a job script on each, which runs its
 * share of the batch through the measurement helper in turn (rank r runs executions r, r+N...;
 * src/parallel/batch-job.ts). Each execution is recorded as soon as its result file appears;
 * prun returns when the reservation is over, and executions it did not finish get error records
 * that `--resume` runs again. `--parallelmax` is how many prun reservations exist at once;
 * the batch size is `--batch-size` or follows the executions' expected duration
 * (src/parallel/batch.ts). As with Slurm, the project, build and results directories must be
 * on the filesystem the nodes share, at the same path. The reservation time is set a minute
 * above the sum of the timeouts a node runs when `--timeout` is given (prun's own default is
 * 15 minutes); a `-t` in `--prun-opts` comes later and wins.
 */
export async function createPrunBackend(options: PrunBackendOptions): Promise<ExecutionBackend> {
  const { nodes, rest: userOpts } = nodeCount(splitWords(options.prunOpts ?? '', '--prun-opts'));
  const probe = await runClient(['prun', '-h']);
  if (probe.spawnError?.code === 'ENOENT') {
    throw new UserError(
      '--parallel prun needs the `prun` program on PATH (a DAS cluster head node); for Slurm clusters use --parallel slurm',
    );
  }
  const helper = await ensureMeasureHelper(options.buildroot);
  mkdirSync(join(options.buildroot, '.infra'), { recursive: true });
  const state = await createRunStateDir(join(options.buildroot, '.infra'), 'prun-jobs-');
  const root = state.path;
  const running = new Set<BatchJob>();
  let nextJob = 0;
  let timer: NodeJS.Timeout | undefined;
  const poll = () => {
    for (const job of running) job.collect();
    timer = running.size > 0 ? setTimeout(poll, options.pollInterval ?? 250) : undefined;
  };

  const launch = async (batch: QueuedExecution[]) => {
    const ranks = Math.min(nodes, batch.length);
    const job = new BatchJob(join(root, String(nextJob++)), batch, helper, ranks);
    const time = reservationTime(batch, ranks);
    running.add(job);
    timer ??= setTimeout(poll, options.pollInterval ?? 250);
    // a killed prun (interrupt) ends its reservation, which stops the job
    const r = await runClient(['prun', '-np', String(ranks), ...time, ...userOpts, '/bin/sh', job.script], { cwd: job.dir });
    running.delete(job);
    appendFileSync(job.output, r.stdout + r.stderr);
    const how = r.spawnError ? r.spawnError.message : r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`;
    job.end(`prun ended (${how})`);
    job.remove();
  };
  const queue = new BatchQueue({ jobs: options.parallelmax ?? 64, batchSize: options.batchSize, launch });

  return {
    name: 'prun',
    capacity: queue.capacity,
    runningAtOnce: options.parallelmax ?? 64,
    async execute(spec: MeasureSpec): Promise<BackendResult> {
      if (!existsSync(spec.cwd)) return { ...errorResult(spec, `working directory does not exist: ${spec.cwd}`), host: 'unknown' };
      return queue.execute(spec);
    },
    async close(): Promise<void> {
      if (timer) clearTimeout(timer);
      queue.close();
      state.remove();
      options.log.debug(`--parallel prun: ${queue.submitted} reservation(s)`);
    },
  };
}

/** `-np N` in `--prun-opts`: the nodes of each reservation (default 1); the other options. */
function nodeCount(words: string[]): { nodes: number; rest: string[] } {
  const at = words.indexOf('-np');
  if (at < 0) return { nodes: 1, rest: words };
  const nodes = Number(words[at + 1]);
  if (!Number.isInteger(nodes) || nodes < 1) {
    throw new UserError(`--prun-opts: -np needs a positive number of nodes, got '${words[at + 1] ?? ''}'`);
  }
  return { nodes, rest: [...words.slice(0, at), ...words.slice(at + 2)] };
}

/** `-t` for a reservation whose `ranks` nodes share `batch` (when every execution has a timeout). */
function reservationTime(batch: QueuedExecution[], ranks: number): string[] {
  if (!batch.every((e) => e.spec.execution.timeout)) return [];
  const perRank = new Array<number>(ranks).fill(0);
  batch.forEach((e, i) => (perRank[i % ranks]! += e.spec.execution.timeout! + (e.spec.execution.linger ?? DEFAULT_LINGER_SECONDS)));
  return ['-t', clockTime(Math.max(...perRank) + 60)];
}
