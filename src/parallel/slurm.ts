import { existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { ExecutionResult } from '../core/runner.js';
import { onInterrupt } from '../exec/interrupt.js';
import { DEFAULT_LINGER_SECONDS, ensureMeasureHelper, type MeasureSpec } from '../exec/measure.js';
import type { BackendResult, ExecutionBackend } from './pool.js';
import { createRunStateDir } from './leftovers.js';
import { clockTime, collectJob, errorResult, prepareJob, runClient, splitWords, tail } from './remote.js';

export interface SlurmBackendOptions {
  /** Build directory: the helper and the job files live in `<buildroot>/.infra`. */
  buildroot: string;
  /** Jobs submitted at once, pending or running (default 64). */
  parallelmax?: number;
  /** Extra `sbatch` options, as one string (`--slurm-opts "--partition=fast --exclusive"`). */
  slurmOpts?: string;
  log: Logger;
  /** Milliseconds between checks for finished jobs (default 250). */
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
/** How long a job's result may lag behind the job's end (shared filesystems cache). */
const RESULT_GRACE_MS = 5000;
/** How often the job queue is asked about jobs whose result has not appeared. */
const QUEUE_POLL_MS = 1000;

interface WatchedJob {
  result: string;
  /** When the queue first said the job had ended (or no longer knew it). */
  endedAt?: number;
  state?: string;
  done: (state: string | undefined) => void;
}

/**
 * Runs every execution as a Slurm batch job (`--parallel slurm`): `sbatch` submits a job
 * script that runs the measurement helper on the allocated node, and the job counts as
 * done when the helper's result file appears (or the queue says the job ended without one;
 * there is no need for slurmdbd/sacct). The project directory, the build directory and the
 * results directory must be on a filesystem the nodes share, at the same path, and the nodes
 * must be able to run the helper built here (same architecture). `--timeout` is enforced by
 * the helper; the job's time limit is set a minute above it. `--slurm-opts` is passed to
 * sbatch after the framework's own options, so it can override them.
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
  let nextJob = 0;
  let lastQueueCheck = 0;
  let timer: NodeJS.Timeout | undefined;

  const poll = async () => {
    timer = undefined;
    const now = Date.now();
    const unresolved: string[] = [];
    for (const [id, job] of watched) {
      if (existsSync(job.result) || (job.endedAt !== undefined && now - job.endedAt > RESULT_GRACE_MS)) {
        watched.delete(id);
        job.done(job.state);
      } else if (job.endedAt === undefined) {
        unresolved.push(id);
      }
    }
    if (unresolved.length > 0 && now - lastQueueCheck >= QUEUE_POLL_MS) {
      lastQueueCheck = now;
      const states = await queueStates(unresolved);
      for (const id of unresolved) {
        const job = watched.get(id);
        const state = states.get(id);
        if (job && (state === undefined || ENDED.has(state))) {
          job.endedAt = Date.now();
          job.state = state;
        }
      }
    }
    if (watched.size > 0) timer = setTimeout(() => void poll(), options.pollInterval ?? 250);
  };
  const watch = (id: string, result: string) =>
    new Promise<string | undefined>((done) => {
      watched.set(id, { result, done });
      timer ??= setTimeout(() => void poll(), options.pollInterval ?? 250);
    });
  const cancelAll = async () => {
    if (watched.size > 0) await runClient(['scancel', ...watched.keys()], { untracked: true });
  };
  // the helper in a cancelled job gets SIGTERM and still writes its result
  const stopWatching = onInterrupt(() => void cancelAll());

  return {
    name: 'slurm',
    capacity: options.parallelmax ?? 64,
    async execute(spec: MeasureSpec): Promise<BackendResult> {
      if (!existsSync(spec.cwd)) return { ...errorResult(spec, `working directory does not exist: ${spec.cwd}`), host: 'unknown' };
      const job = prepareJob(root, nextJob++, spec, helper);
      const timeLimit = spec.execution.timeout
        ? ['--time', clockTime(spec.execution.timeout + (spec.execution.linger ?? DEFAULT_LINGER_SECONDS) + 60)]
        : [];
      const submit = await runClient([
        'sbatch',
        '--parsable',
        '--job-name',
        `infra-${basename(spec.argv[0] ?? 'job')}`,
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
        return { ...collectJob(job, spec, `sbatch failed: ${why}`).result, host: 'unknown' };
      }
      state.addJob(id);
      const ended = await watch(id, job.result);
      const { result, host } = collectJob(job, spec, `Slurm job ${id} ended ${ended ?? '(no longer in the queue)'} without a measurement`);
      return { ...(await timeLimitHit(id, result)), host };
    },
    async close(): Promise<void> {
      stopWatching();
      await cancelAll();
      if (timer) clearTimeout(timer);
      state.remove();
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

/** A job that Slurm killed at its time limit is a timeout, whatever signal the helper saw. */
async function timeLimitHit(id: string, result: ExecutionResult): Promise<ExecutionResult> {
  if (result.status === 'ok' || result.status === 'timeout') return result;
  const r = await runClient(['scontrol', '--oneliner', 'show', 'job', id]);
  if (!/\bJobState=TIMEOUT\b/.test(r.stdout)) return result;
  const limit = /\bTimeLimit=(\S+)/.exec(r.stdout)?.[1] ?? 'its limit';
  return { ...result, status: 'timeout', reason: `killed by Slurm at the job's time limit (${limit})` };
}
