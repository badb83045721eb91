import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { DEFAULT_LINGER_SECONDS, ensureMeasureHelper, type MeasureSpec } from '../exec/measure.js';
import type { BackendResult, ExecutionBackend } from './pool.js';
import { createRunStateDir } from './leftovers.js';
import { clockTime, collectJob, errorResult, prepareJob, runClient, splitWords } from './remote.js';

export interface PrunBackendOptions {
  /** Build directory: the helper and the job files live in `<buildroot>/.infra`. */
  buildroot: string;
  /** Node reservations at once, pending or running (default 64, as on DAS-5). */
  parallelmax?: number;
  /** Extra `prun` options as one string, e.g. `"-asocial -t 30:00"`. */
  prunOpts?: string;
  log: Logger;
}

/**
 * Runs every execution on a cluster node reserved with `prun` (`--parallel prun`, the DAS
 * clusters): `prun -np 1 [-t TIME] PRUN_OPTS /bin/sh JOB` reserves one node and runs a job
 * script there that runs the measurement helper; prun returns when the job is over. As with
 * Slurm, the project, build and results directories must be on the filesystem the nodes
 * share, at the same path. The reservation time is set a minute above `--timeout` when one
 * is given (prun's own default is 15 minutes); a `-t` in `--prun-opts` comes later and wins.
 */
export async function createPrunBackend(options: PrunBackendOptions): Promise<ExecutionBackend> {
  const userOpts = splitWords(options.prunOpts ?? '', '--prun-opts');
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
  let nextJob = 0;
  return {
    name: 'prun',
    capacity: options.parallelmax ?? 64,
    async execute(spec: MeasureSpec): Promise<BackendResult> {
      if (!existsSync(spec.cwd)) return { ...errorResult(spec, `working directory does not exist: ${spec.cwd}`), host: 'unknown' };
      const job = prepareJob(root, nextJob++, spec, helper);
      const time = spec.execution.timeout
        ? ['-t', clockTime(spec.execution.timeout + (spec.execution.linger ?? DEFAULT_LINGER_SECONDS) + 60)]
        : [];
      // a killed prun (interrupt) ends its reservation, which stops the job
      const r = await runClient(['prun', '-np', '1', ...time, ...userOpts, '/bin/sh', job.script], { cwd: job.dir });
      const how = r.spawnError ? r.spawnError.message : r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`;
      const { result, host } = collectJob(job, spec, `prun ended (${how}) without a measurement`, r.stdout + r.stderr);
      return { ...result, host };
    },
    async close(): Promise<void> {
      state.remove();
    },
  };
}
