import { UserError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { createLocalBackend } from './local.js';
import { removeLeftovers } from './leftovers.js';
import type { ExecutionBackend } from './pool.js';
import { PARALLEL_MODES, type ParallelMode } from '../run/settings.js';

export { PARALLEL_MODES, defaultParallelmax, type ParallelMode } from '../run/settings.js';

/** Options of the remote modes, as the run and build commands receive them. */
export interface RemoteOptions {
  /** `--ssh-nodes`: machines for `--parallel ssh`, as `[user@]host[:port]`. */
  sshNodes?: string[];
  /** `--slurm-opts`: extra sbatch options for `--parallel slurm`. */
  slurmOpts?: string;
  /** `--prun-opts`: extra prun options for `--parallel prun`. */
  prunOpts?: string;
  /** `--batch-size`: executions per job for `--parallel slurm` and `prun`. */
  batchSize?: number;
}

export interface BackendOptions extends RemoteOptions {
  buildroot: string;
  /** Executions at once: in total (proc, slurm, prun) or per node (ssh). */
  parallelmax: number;
  log: Logger;
}

/**
 * The execution backend for `--parallel MODE` (none: local, serial). Options that belong
 * to another mode are refused, so a forgotten `--parallel ssh` does not silently run locally.
 * Only runs use these backends; builds always happen on this machine. What killed runs left
 * (batch jobs, ssh connections, job files) is removed first.
 */
export async function createBackend(mode: string | undefined, options: BackendOptions): Promise<ExecutionBackend> {
  checkModeOptions(mode, options);
  await removeLeftovers(options.buildroot, options.log);
  switch (mode) {
    case undefined:
    case 'proc':
      return createLocalBackend({ buildroot: options.buildroot, parallelmax: options.parallelmax });
    case 'ssh': {
      const { createSshBackend } = await import('./ssh.js');
      return createSshBackend({ nodes: options.sshNodes ?? [], perNode: options.parallelmax, log: options.log });
    }
    case 'slurm': {
      const { createSlurmBackend } = await import('./slurm.js');
      return createSlurmBackend({
        buildroot: options.buildroot,
        parallelmax: options.parallelmax,
        batchSize: options.batchSize,
        slurmOpts: options.slurmOpts,
        log: options.log,
      });
    }
    case 'prun': {
      const { createPrunBackend } = await import('./prun.js');
      return createPrunBackend({
        buildroot: options.buildroot,
        parallelmax: options.parallelmax,
        batchSize: options.batchSize,
        prunOpts: options.prunOpts,
        log: options.log,
      });
    }
    default:
      throw new UserError(`unknown --parallel mode '${mode}'; valid modes: ${PARALLEL_MODES.join(', ')}`);
  }
}

/** Refuses e.g. `--ssh-nodes` without `--parallel ssh`. */
export function checkModeOptions(mode: string | undefined, options: RemoteOptions): void {
  const given: Array<[string, ParallelMode, unknown]> = [
    ['--ssh-nodes', 'ssh', options.sshNodes],
    ['--slurm-opts', 'slurm', options.slurmOpts],
    ['--prun-opts', 'prun', options.prunOpts],
  ];
  if (options.batchSize !== undefined && mode !== 'slurm' && mode !== 'prun') {
    throw new UserError(
      `--batch-size is only used with --parallel slurm or prun (this command has ${mode ? `--parallel ${mode}` : 'no --parallel'})`,
    );
  }
  for (const [flag, owner, value] of given) {
    if (value !== undefined && mode !== owner) {
      throw new UserError(
        `${flag} is only used with --parallel ${owner} (this command has ${mode ? `--parallel ${mode}` : 'no --parallel'})`,
      );
    }
  }
}
