import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import type { Logger } from './log.js';
import { processExists } from '../util/process.js';
import { throwIfInterrupted } from '../exec/interrupt.js';

/**
 * An exclusive lock on a build tree, so two `infra` processes never build into the same
 * directories at once. The second one waits (saying who holds the lock); a lock left by a
 * process that no longer exists is taken over.
 */
export class BuildLock {
  private held = false;
  constructor(private readonly file: string, private readonly log: Logger) {}

  async acquire(description: string, pollMs = 200): Promise<void> {
    mkdirSync(dirname(this.file), { recursive: true });
    let announced = false;
    for (;;) {
      try {
        const fd = openSync(this.file, 'wx');
        writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), command: description, since: new Date().toISOString() }));
        closeSync(fd);
        this.held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = this.readHolder();
      if (holder && holder.host === hostname() && !processExists(holder.pid)) {
        this.log.warning(`removing stale lock of process ${holder.pid} (${holder.command}), which no longer runs`);
        rmSync(this.file, { force: true });
        continue;
      }
      if (!announced) {
        const who = holder ? `process ${holder.pid} (${holder.command})` : 'another infra process';
        this.log.warning(`the build directory is in use by ${who}; waiting for it to finish (lock: ${this.file})`);
        announced = true;
      }
      throwIfInterrupted();
      await new Promise((r) => setTimeout(r, pollMs));
      throwIfInterrupted();
    }
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    rmSync(this.file, { force: true });
  }

  private readHolder(): { pid: number; host: string; command: string } | null {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8'));
    } catch {
      return null; // being written right now, or garbage: retry later
    }
  }
}
