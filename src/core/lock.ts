import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { hostname } from 'node:os';
import type { Logger } from './log.js';
import { processExists } from '../util/process.js';
import { throwIfInterrupted } from '../exec/interrupt.js';

/** What a lock file says about the process holding it. */
interface LockHolder {
  pid: number;
  host: string;
  command: string;
}

/**
 * An exclusive lock on a build tree, so two `infra` processes never build into the same
 * directories at once. The second one waits (saying who holds the lock); a lock left by a
 * process that no longer exists is taken over.
 */
export class BuildLock {
  private held = false;
  constructor(
    private readonly file: string,
    private readonly log: Logger,
  ) {}

  async acquire(description: string, pollMs = 200): Promise<void> {
    mkdirSync(dirname(this.file), { recursive: true });
    // the lock appears fully written or not at all: a temp file hard-linked into place
    const mine = `${this.file}.${process.pid}`;
    writeFileSync(mine, JSON.stringify({ pid: process.pid, host: hostname(), command: description, since: new Date().toISOString() }));
    let announced = false;
    try {
      for (;;) {
        try {
          linkSync(mine, this.file);
          this.held = true;
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const holder = this.readHolder(this.file);
        if (holder && holder.host === hostname() && !processExists(holder.pid)) {
          this.takeOverStale(holder.pid);
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
    } finally {
      rmSync(mine, { force: true });
    }
  }

  /**
   * Moves a dead process's lock aside. Two waiters may race here: whoever moved a lock that
   * turns out to be live (just taken by the other) puts it back.
   */
  private takeOverStale(stalePid: number): void {
    const aside = `${this.file}.stale.${process.pid}`;
    try {
      renameSync(this.file, aside);
    } catch {
      return; // someone else moved it first
    }
    const moved = this.readHolder(aside);
    if (moved && moved.pid !== stalePid) {
      try {
        linkSync(aside, this.file);
      } catch {
        // a third process holds the lock now; the one we moved will find its lock gone
      }
    } else {
      this.log.warning(`removed the stale lock of process ${stalePid}, which no longer runs`);
    }
    rmSync(aside, { force: true });
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    rmSync(this.file, { force: true });
  }

  private readHolder(file: string): LockHolder | null {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    } catch {
      return null; // being written right now, or garbage: retry later
    }
  }
}
