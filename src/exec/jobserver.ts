import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from '../core/context.js';

/** What `run()` passes to children so their `make` shares the CPU budget. */
export interface JobserverHandle {
  /** One read-write descriptor of the token pipe, given to children as fds 3 and 4. */
  fd: number;
  /** MAKEFLAGS value telling GNU make to take its job slots from those descriptors. */
  makeflags: string;
}

/**
 * A GNU make jobserver shared by parallel build jobs: `slots` job slots in total, one held
 * implicitly by each make, the rest as tokens in a FIFO. Makes started by `run()` (without an
 * explicit `-j`; use {@link makeJobs}) draw from it, so parallel builds neither oversubscribe
 * the machine nor leave a core idle while another job still has work.
 */
export class Jobserver implements JobserverHandle {
  readonly fd: number;
  readonly makeflags: string;
  private readonly dir: string;

  constructor(readonly slots: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'infra-jobserver-'));
    const fifo = join(this.dir, 'tokens');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    // read-write: opening never blocks, and the pipe lives as long as this descriptor
    this.fd = openSync(fifo, 'r+');
    if (slots > 1) writeSync(this.fd, '+'.repeat(slots - 1));
    this.makeflags = ` -j${slots} --jobserver-auth=3,4`;
  }

  close(): void {
    try {
      closeSync(this.fd);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/**
 * The `-j` arguments for a `make` a target or package runs: none when a jobserver shares the
 * CPU budget between parallel builds (make then takes its slots from it), else `-j<ctx.jobs>`.
 */
export function makeJobs(ctx: Context): string[] {
  return ctx.jobserver ? [] : [`-j${ctx.jobs}`];
}
