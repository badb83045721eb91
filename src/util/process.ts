import { readFileSync } from 'node:fs';

/** Whether a process with this pid exists on this machine (possibly owned by someone else). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A process as it can be recognised later: its pid and its start time (clock ticks after
 * boot, field 22 of /proc/PID/stat), so a pid reused by an unrelated process is not mistaken
 * for it.
 */
export interface ProcessIdentity {
  pid: number;
  /** null where /proc is not readable: then only the pid is compared. */
  start: number | null;
}

/** Fields 3 and following of /proc/PID/stat (state first), or null. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may contain spaces and parentheses: count from the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** The start time of a running process (field 22 of /proc/PID/stat), or null. */
export function processStartTime(pid: number): number | null {
  const start = Number(statFields(pid)?.[19]);
  return Number.isFinite(start) ? start : null;
}

export function processIdentity(pid: number): ProcessIdentity {
  return { pid, start: processStartTime(pid) };
}

/** Whether the process identified (pid and, where recorded, start time) still runs. */
export function processAlive(who: ProcessIdentity): boolean {
  if (!processExists(who.pid)) return false;
  const fields = statFields(who.pid);
  if (!fields) return true; // no /proc: the pid is all we know
  if (fields[0] === 'Z' || fields[0] === 'X') return false; // exited, not yet reaped
  return who.start === null || Number(fields[19]) === who.start;
}

/** The id of this boot of the machine (Linux), or null: a pid from another boot is dead. */
export function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * When a running process started, in milliseconds since the epoch (to about 10 ms), or null.
 * Start times in /proc are clock ticks after boot; Linux reports them in units of 100 Hz.
 */
export function processStartedAt(pid: number): number | null {
  const ticks = processStartTime(pid);
  if (ticks === null) return null;
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return btime ? Number(btime[1]) * 1000 + ticks * 10 : null;
  } catch {
    return null;
  }
}
