import type { ChildProcess } from 'node:child_process';
import { supervise } from './supervisor.js';

/**
 * Every child the framework started and has not seen exit, so an interrupt can stop them
 * all (each is a process-group leader; its whole tree gets the signal). Each is also
 * registered with the supervisor, which kills its group if infra itself is killed;
 * `ownCleanup` marks a child that stops its own tree then (the measurement helper).
 */
const live = new Set<ChildProcess>();

export function track(child: ChildProcess, options: { ownCleanup?: boolean } = {}): void {
  supervise(child, options.ownCleanup);
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
}

export function killAll(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const child of live) {
    if (child.pid === undefined) continue;
    try {
      process.kill(-child.pid, signal);
    } catch {
      try {
        child.kill(signal);
      } catch {
        /* already gone */
      }
    }
  }
}
