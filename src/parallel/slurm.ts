import { existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { ExecutionResult } from '../core/runner.js';
import { onInterrupt } from '../exec/interrupt.js';
import { DEFAULT_LINGER_SECONDS, ensureMeasureHelper, type MeasureSpec } from '../exec/measure.js';
import type { BackendResult, ExecutionBackend } from './pool.js';
import { createRunStateDir } from './leftovers.js';
import { clockTime, errorResult, runClient, splitWords, tail } from './remote.js';
import { BatchQueue, type QueuedExecution } from './batch.js';
import { BatchJob } from './batch-job.js';

export interface SlurmBackendOptions {
  /** Build directory: the helper and the job files live in `<buildroot>/.infra`. */
  buildroot: string;
  /** Jobs submitted at once, pending or running (default 64). */
  parallelmax?: number;
  /** Executions per job (`--batch-size`); default: from their expected duration (src/parallel/batch.ts). */
  batchSize?: number;
  /** Extra `sbatch` options, as one string (`--slurm-opts "--partition=fast --exclusive"`). */
  slurmOpts?: string;
  log: Logger;
  /** Milliseconds between checks for finished executions (default 250). */
  pollInterval?: number;
}

/** Job states after which a job never runs again (`squeue -t all`). */
const ENDED = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'OUT_OF_MEMORY',
  'SPECIAL_EXIT',
]);
/** How long a job's last files may lag behind the job's end (shared filesystems cache). */
const RESULT_GRACE_MS = 5000;
/** How often the job queue is asked about running jobs. */
const QUEUE_POLL_MS = 1000;

interface WatchedJob {
  job: BatchJob;
  /** When the queue first said the job had ended (or no longer knew it). */
  endedAt?: number;
  state?: string;
  done: () => void;
}

/**
 * Runs executions as Slurm batch jobs (`--parallel slurm`), several per job: `sbatch` submits
 * a job script that runs each execution of its batch through the measurement helper in turn
 * on the allocated node (src/parallel/batch-job.ts), and each execution is recorded as soon
 * as its result file appears, with the node it ran on. How many go into one job is
 * `--batch-size` or follows their expected duration (src/parallel/batch.ts); `--parallelmax`
 * is how many jobs are pending or running at once. A job that ends early (cancelled, node
 * failure, time limit) leaves error records for the executions it did not finish, which
 * `--resume` runs again; there is no need for slurmdbd/sacct. The project directory, the
 * build directory and the results directory must be on a filesystem the nodes share, at the
 * same path, and the nodes must be able to run the helper built here (same architecture).
 * `--timeout` is enforced by the helper; the job's time limit is set a minute above the sum of
 * its executions' timeouts. `--slurm-opts` is passed to sbatch after the framework's own
 * options, so it can override them.
 */
export async function createSlurmBackend(options: SlurmBackendOptions): Promise<ExecutionBackend> {
  const userOpts = splitWords(options.slurmOpts ?? '', '--slurm-opts');
  await checkSlurm();
  const helper = await ensureMeasureHelper(options.buildroot);
  mkdirSync(join(options.buildroot, '.infra'), { recursive: true });
  // if this run is killed, the next one (or `infra clean`) cancels the jobs noted here
  const state = await createRunStateDir(join(options.buildroot, '.infra'), 'slurm-jobs-');
  const root = state.path;
  const watched = new Map<string, WatchedJob>();
  const jobOf = new Map<MeasureSpec, string>();
  const endedStates = new Map<string, Promise<string>>();
  let nextJob = 0;
  let lastQueueCheck = 0;
  let timer: NodeJS.Timeout | undefined;
  const pollInterval = options.pollInterval ?? 250;

  const finish = (id: string, w: WatchedJob) => {
    watched.delete(id);
    w.job.remove();
    w.done();
  };
  const poll = async () => {
    timer = undefined;
    const now = Date.now();
    const unresolved: string[] = [];
    for (const [id, w] of watched) {
      w.job.collect();
      if (w.job.pending === 0) finish(id, w);
      else if (w.endedAt !== undefined && now - w.endedAt > RESULT_GRACE_MS) {
        w.job.end(`Slurm job ${id} ended ${w.state ?? '(no longer in the queue)'}`);
        finish(id, w);
      } else if (w.endedAt === undefined) unresolved.push(id);
    }
    if (unresolved.length > 0 && now - lastQueueCheck >= QUEUE_POLL_MS) {
      lastQueueCheck = now;
      const states = await queueStates(unresolved);
      for (const id of unresolved) {
        const w = watched.get(id);
        const st = states.get(id);
        if (w && (st === undefined || ENDED.has(st))) {
          w.endedAt = Date.now();
          w.state = st;
        }
      }
    }
    if (watched.size > 0) timer = setTimeout(() => void poll(), pollInterval);
  };
  const cancelAll = async () => {
    if (watched.size > 0) await runClient(['scancel', ...watched.keys()], { untracked: true });
  };
  // the helper in a cancelled job gets SIGTERM and still writes its result
  const stopWatching = onInterrupt(() => void cancelAll());

  const launch = async (batch: QueuedExecution[]) => {
    const job = new BatchJob(join(root, String(nextJob++)), batch, helper);
    const limits = batch.map((e) => e.spec.execution);
    const timeLimit = limits.every((x) => x.timeout)
      ? ['--time', clockTime(limits.reduce((sum, x) => sum + x.timeout! + (x.linger ?? DEFAULT_LINGER_SECONDS), 0) + 60)]
      : [];
    const submit = await runClient([
      'sbatch',
      '--parsable',
      '--job-name',
      `infra-${basename(batch[0]!.spec.argv[0] ?? 'job')}`,
      '--output',
      job.output,
      '--chdir',
      job.dir,
      '--nodes=1',
      '--ntasks=1',
      ...timeLimit,
      ...userOpts,
      job.script,
    ]);
    const id = /^(\d+)/.exec(submit.stdout.trim())?.[1];
    if (submit.code !== 0 || !id) {
      const why = tail(submit.stderr, 2) || submit.spawnError?.message || `exit status ${submit.code}`;
      for (const e of batch) e.resolve({ ...errorResult(e.spec, `sbatch failed: ${why}`), host: 'unknown' });
      job.remove();
      return;
    }
    state.addJob(id);
    options.log.debug(`Slurm job ${id}: ${batch.length} execution(s)`);
    for (const e of batch) jobOf.set(e.spec, id);
    await new Promise<void>((done) => {
      watched.set(id, { job, done });
      timer ??= setTimeout(() => void poll(), pollInterval);
    });
  };
  const queue = new BatchQueue({ jobs: options.parallelmax ?? 64, batchSize: options.batchSize, launch });

  return {
    name: 'slurm',
    capacity: queue.capacity,
    runningAtOnce: options.parallelmax ?? 64,
    async execute(spec: MeasureSpec): Promise<BackendResult> {
      if (!existsSync(spec.cwd)) return { ...errorResult(spec, `working directory does not exist: ${spec.cwd}`), host: 'unknown' };
      const result = await queue.execute(spec);
      const id = jobOf.get(spec);
      jobOf.delete(spec);
      if (id === undefined || result.status === 'ok' || result.status === 'timeout') return result;
      return { ...(await timeLimitHit(id, result, endedStates)), host: result.host };
    },
    async close(): Promise<void> {
      stopWatching();
      await cancelAll();
      if (timer) clearTimeout(timer);
      queue.close();
      state.remove();
      options.log.debug(`--parallel slurm: ${queue.submitted} job(s) submitted`);
    },
  };
}

/** sbatch, squeue and scancel must exist, and the controller must answer. */
async function checkSlurm(): Promise<void> {
  const ping = await runClient(['scontrol', 'ping']);
  if (ping.spawnError?.code === 'ENOENT') {
    throw new UserError(
      "--parallel slurm needs Slurm's client programs (sbatch, squeue, scancel, scontrol) on PATH (Debian package slurm-client)",
    );
  }
  if (ping.code !== 0 || !/\bUP\b/.test(ping.stdout)) {
    throw new UserError(
      `--parallel slurm: the Slurm controller does not answer (scontrol ping: ${tail(ping.stdout + ping.stderr, 2) || `exit status ${ping.code}`}); ` +
        'check that slurmctld runs and that SLURM_CONF points to its configuration',
    );
  }
}

/** State of each job the queue still knows (`squeue -t all` also lists recently ended jobs). */
async function queueStates(ids: string[]): Promise<Map<string, string>> {
  const r = await runClient(['squeue', '--noheader', '--states=all', '--format=%i %T', `--jobs=${ids.join(',')}`]);
  const states = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const [id, state] = line.trim().split(/\s+/);
    if (id && state) states.set(id, state);
  }
  // squeue fails when it knows none of the ids; a failed query must not end jobs that run
  if (r.code !== 0 && !/invalid job id/i.test(r.stderr)) {
    for (const id of ids) states.set(id, 'UNKNOWN');
  }
  return states;
}

/**
 * A job that Slurm killed at its time limit is a timeout, whatever signal the helper saw.
 * What scontrol says about a job that has ended is kept in `ended` (a batch of failing
 * executions asks once).
 */
async function timeLimitHit(id: string, result: ExecutionResult, ended: Map<string, Promise<string>>): Promise<ExecutionResult> {
  let show = ended.get(id);
  if (!show) {
    show = runClient(['scontrol', '--oneliner', 'show', 'job', id]).then((r) => r.stdout);
    const state = /\bJobState=(\w+)/.exec(await show)?.[1];
    if (state && ENDED.has(state)) ended.set(id, show);
  }
  const text = await show;
  if (!/\bJobState=TIMEOUT\b/.test(text)) return result;
  const limit = /\bTimeLimit=(\S+)/.exec(text)?.[1] ?? 'its limit';
  return { ...result, status: 'timeout', reason: `killed by Slurm at the job's time limit (${limit})` };
}
