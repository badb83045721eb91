import { availableParallelism, hostname } from 'node:os';
import { ensureMeasureHelper } from '../exec/measure.js';
import { MeasureService } from '../exec/measure-service.js';
import type { MeasureSpec } from '../exec/measure.js';
import type { BackendResult, ExecutionBackend, Reservation } from './pool.js';

export interface LocalBackendOptions {
  /** Build directory; the measurement helper is compiled into `<buildroot>/.infra`. */
  buildroot: string;
  /** Executions at once (default: the number of cores). */
  parallelmax?: number;
  /** C compiler used to build the helper (default: `cc`). */
  cc?: string;
}

/**
 * Runs executions as processes on this machine, each measured by one of a few long-lived
 * helpers (one per execution running at once) that fork and exec the benchmark on request.
 * The pool may give it two executions per slot: the second is held, set up, behind the first
 * and starts once the first one's record is written (see {@link MeasureService}).
 */
export async function createLocalBackend(options: LocalBackendOptions): Promise<ExecutionBackend> {
  const slots = options.parallelmax ?? availableParallelism();
  const service = new MeasureService(await ensureMeasureHelper(options.buildroot, options.cc), slots);
  const host = hostname();
  return {
    name: 'local',
    capacity: 2 * slots,
    runningAtOnce: slots,
    // serially, the helper writes the record of a clean execution itself: the next one then
    // starts without waiting for infra (runtime/measure.c, write_record); with several
    // helpers, infra writes every record
    ...(slots === 1 ? { recordsHost: host, appendRecord: (write: () => void) => service.appendRecord(write) } : {}),
    async execute(spec: MeasureSpec, reservation?: Reservation): Promise<BackendResult> {
      return { ...(await service.execute(spec, reservation)), host };
    },
    reserve: () => service.reserve(),
    close: () => service.close(),
  };
}
