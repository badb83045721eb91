import { linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hostname } from 'node:os';
import type { Logger } from './log.js';
import { UserError } from './errors.js';
import { bootId, processAlive, processStartTime, processStartedAt, type ProcessIdentity } from '../util/process.js';
import { supervisorIdentity } from '../exec/supervisor.js';
import { throwIfInterrupted } from '../exec/interrupt.js';

/** What a lock file says about the process holding it. */
interface LockHolder {
  pid: number;
  /** Start time of the process (/proc/PID/stat field 22): a reused pid is not the holder. */
  start?: number | null;
  /** The boot the holder ran in: a lock from before a reboot is dead whatever its pid. */
  boot?: string | null;
  host: string;
  command: string;
  since?: string;
  /** The holder's supervisor (src/exec/supervisor.ts), which outlives it until its children are gone. */
  supervisor?: ProcessIdentity | null;
}

/** How a holder found in a lock is doing. */
type HolderState = 'alive' | 'elsewhere' | 'leftovers' | 'dead';

/** `writtenAt`: when the lock file was written (ms since the epoch). */
function holderState(h: LockHolder, writtenAt: number): HolderState {
  if (h.host !== hostname()) return 'elsewhere';
  const boot = bootId();
  if (h.boot && boot && h.boot !== boot) return 'dead';
  if (processAlive({ pid: h.pid, start: h.start ?? null })) {
    // without a recorded start time (an older lock): a process younger than the lock is not its holder
    const startedAt = h.start == null ? processStartedAt(h.pid) : null;
    if (startedAt !== null && startedAt > writtenAt + 1000) return 'dead';
    return 'alive';
  }
  // its children may still run (being killed by its supervisor): not over until both are gone
  if (h.supervisor && processAlive(h.supervisor)) return 'leftovers';
  return 'dead';
}

function describeHolder(h: LockHolder): string {
  return `process ${h.pid}${h.host !== hostname() ? ` on ${h.host}` : ''} (${h.command})`;
}

export interface AcquireOptions {
  /** 'wait' (the default) waits for a live holder; 'refuse' throws a UserError naming it. */
  ifHeld?: 'wait' | 'refuse';
  pollMs?: number;
}

/**
 * A lock on a directory tree (the build tree, a results directory), so two `infra` processes
 * never write into it at once. It is a file holding the holder's pid, start time and
 * command; it is taken over only when the holder no longer runs and neither do the processes
 * it started (its supervisor is gone too). A file that is not a lock is reported with the
 * path to remove, never waited on.
 *
 * Besides the exclusive lock there are shared holders (`acquireShared`): processes that use
 * the tree without changing it, such as a run executing the binaries. Each has a file in
 * `<lock>.shared/`; an exclusive holder waits until the live ones are gone, and new shared
 * holders wait while an exclusive holder (or one waiting for its turn) holds the lock.
 */
export class BuildLock {
  private held = false;
  private sharedFile: string | null = null;
  constructor(
    private readonly file: string,
    private readonly log: Logger,
    /** What the lock protects, in messages ("the build directory"). */
    private readonly what = 'the build directory',
  ) {}

  /** Takes the lock exclusively: waits (or refuses) while anyone else holds it, shared or not. */
  async acquire(description: string, options: AcquireOptions = {}): Promise<void> {
    await this.acquireFile(description, options);
    try {
      await this.waitForSharedHolders(options);
    } catch (e) {
      this.release();
      throw e;
    }
  }

  /** Takes the lock shared: waits while it is held exclusively. */
  async acquireShared(description: string, options: AcquireOptions = {}): Promise<void> {
    await this.acquireFile(description, options);
    this.downgrade(description);
  }

  /** Turns the exclusive lock held into a shared one, with no moment in which it is free. */
  downgrade(description: string): void {
    if (!this.held) throw new Error('downgrade of a lock that is not held');
    const dir = this.sharedDir();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, String(process.pid));
    writeFileSync(file, JSON.stringify(this.me(description)));
    this.sharedFile = file;
    this.held = false;
    rmSync(this.file, { force: true });
  }

  release(): void {
    if (this.sharedFile) rmSync(this.sharedFile, { force: true });
    this.sharedFile = null;
    if (!this.held) return;
    this.held = false;
    rmSync(this.file, { force: true });
  }

  private me(description: string): LockHolder {
    return {
      pid: process.pid,
      start: processStartTime(process.pid),
      boot: bootId(),
      host: hostname(),
      command: description,
      since: new Date().toISOString(),
      supervisor: supervisorIdentity(),
    };
  }

  private sharedDir(): string {
    return `${this.file}.shared`;
  }

  private async acquireFile(description: string, options: AcquireOptions): Promise<void> {
    mkdirSync(dirname(this.file), { recursive: true });
    // the lock appears fully written or not at all: a temp file hard-linked into place
    const mine = `${this.file}.${process.pid}`;
    writeFileSync(mine, JSON.stringify(this.me(description)));
    const waiting = new Waiting(this.log);
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
        if (holder === 'gone') continue;
        const state = holderState(holder, holder.writtenAt);
        if (state === 'dead') {
          this.takeOverStale(holder.pid);
          continue;
        }
        this.refuseOrAnnounce(waiting, holder, state, options);
        await pause(options.pollMs);
      }
    } finally {
      rmSync(mine, { force: true });
    }
  }

  /** Holding the lock file: waits until no live shared holder is left (removing dead ones). */
  private async waitForSharedHolders(options: AcquireOptions): Promise<void> {
    const waiting = new Waiting(this.log);
    for (;;) {
      let busy: { holder: LockHolder; state: HolderState } | null = null;
      let names: string[];
      try {
        names = readdirSync(this.sharedDir());
      } catch {
        return; // no shared holder ever
      }
      for (const name of names) {
        const path = join(this.sharedDir(), name);
        const holder = this.readHolder(path);
        if (holder === 'gone') continue;
        const state = holderState(holder, holder.writtenAt);
        if (state === 'dead') rmSync(path, { force: true });
        else busy ??= { holder, state };
      }
      if (!busy) return;
      this.refuseOrAnnounce(waiting, busy.holder, busy.state, options, ', which runs programs built there');
      await pause(options.pollMs);
    }
  }

  private refuseOrAnnounce(waiting: Waiting, holder: LockHolder, state: HolderState, options: AcquireOptions, doing = ''): void {
    const who = describeHolder(holder);
    if (state === 'leftovers') {
      waiting.say(
        `${who} died while holding the lock of ${this.what}; waiting for the processes it started to end ` +
          `(its supervisor, process ${holder.supervisor!.pid}, is killing them; lock: ${this.file})`,
      );
      return;
    }
    if (options.ifHeld === 'refuse') {
      throw new UserError(`${this.what} is in use by ${who}${doing}; wait for it to finish or stop it (lock: ${this.file})`);
    }
    waiting.say(`${this.what} is in use by ${who}${doing}; waiting for it to finish (lock: ${this.file})`);
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
    if (moved !== 'gone' && moved.pid !== stalePid) {
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

  /**
   * A lock file is always complete (it is linked into place), so one that cannot be parsed
   * is not a lock that will ever be released: it is reported, with the path to remove.
   */
  private readHolder(file: string): (LockHolder & { writtenAt: number }) | 'gone' {
    let text: string;
    let writtenAt: number;
    try {
      writtenAt = statSync(file).mtimeMs;
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      throw new UserError(`cannot read the lock file ${file}: ${(err as Error).message}`);
    }
    try {
      const h = JSON.parse(text) as Partial<LockHolder>;
      if (typeof h.pid === 'number' && typeof h.host === 'string') {
        return { ...h, pid: h.pid, host: h.host, command: h.command ?? 'unknown command', writtenAt };
      }
    } catch {
      // reported below
    }
    const what = text.length === 0 ? 'is empty' : 'is not a lock written by infra';
    throw new UserError(
      `the lock file ${file} ${what}, so nobody holds it and it will never be released; ` +
        `if no other infra process uses ${this.what}, remove it: rm ${file}`,
    );
  }
}

/** Says once why we wait. */
class Waiting {
  private said = new Set<string>();
  constructor(private readonly log: Logger) {}
  say(message: string): void {
    if (this.said.has(message)) return;
    this.said.add(message);
    this.log.warning(message);
  }
}

async function pause(ms = 200): Promise<void> {
  throwIfInterrupted();
  await new Promise((r) => setTimeout(r, ms));
  throwIfInterrupted();
}
