import { InterruptedError } from '../core/errors.js';

/**
 * The process-wide interrupt (Ctrl-C, SIGTERM). The CLI's signal handler calls `interrupt()`;
 * everything that starts new work (commands, downloads, job pools, lock waits) checks it, so
 * nothing new starts after an interrupt and the command ends with InterruptedError (exit 130).
 */
const controller = new AbortController();

export const interruptSignal: AbortSignal = controller.signal;

export function interrupt(): void {
  controller.abort();
}

export function isInterrupted(): boolean {
  return controller.signal.aborted;
}

/** Throws InterruptedError once the process was interrupted. */
export function throwIfInterrupted(): void {
  if (controller.signal.aborted) throw new InterruptedError('interrupted; finished work is kept, rerun to complete the rest');
}

/** Calls `fn` on interrupt (at once if already interrupted); returns a function that unregisters it. */
export function onInterrupt(fn: () => void): () => void {
  if (controller.signal.aborted) {
    fn();
    return () => {};
  }
  controller.signal.addEventListener('abort', fn, { once: true });
  return () => controller.signal.removeEventListener('abort', fn);
}
