import { isTerminal } from '../core/log.js';
import pc from 'picocolors';
import type { PoolObserver } from './pool.js';

export interface ProgressOptions {
  /** Default: process.stderr. */
  stream?: NodeJS.WriteStream;
  /** Redraw one status line (default: whether the stream is a TTY). */
  live?: boolean;
  /** Default: only on a TTY, and never with NO_COLOR or TERM=dumb. */
  color?: boolean;
}

type Outcome = { ok: boolean; text: string };

const REDRAW_MS = 100;

/**
 * Shows how a run advances. On a TTY: one status line on stderr, redrawn in place (done/total,
 * running jobs, failures, ETA), with failures printed above it. Otherwise one plain line per
 * finished job. Give it to a {@link JobPool} as its observer, and call {@link report} from a
 * job to describe its outcome.
 */
export class Progress implements PoolObserver {
  private readonly stream: NodeJS.WriteStream;
  private readonly live: boolean;
  private readonly c: ReturnType<typeof pc.createColors>;
  private total = 0;
  private done = 0;
  private failed = 0;
  private readonly running = new Map<string, number>();
  private readonly outcomes = new Map<string, Outcome>();
  private readonly started = Date.now();
  private lastDraw = 0;
  private timer: NodeJS.Timeout | undefined;
  private shown = false;

  constructor(options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    const tty = isTerminal(this.stream);
    this.live = options.live ?? tty;
    const color = options.color ?? (tty && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb');
    this.c = pc.createColors(color);
  }

  jobAdded(_label: string): void {
    this.total++;
    this.redraw();
  }

  jobStarted(label: string): void {
    this.running.set(label, Date.now());
    this.redraw();
  }

  /** Describes a job's outcome (called by the job before it returns). */
  report(label: string, ok: boolean, text: string): void {
    this.outcomes.set(label, { ok, text });
  }

  jobFinished(label: string, error: unknown): void {
    this.running.delete(label);
    this.done++;
    const outcome: Outcome =
      error !== undefined
        ? { ok: false, text: `error: ${error instanceof Error ? error.message : JSON.stringify(error)}` }
        : (this.outcomes.get(label) ?? { ok: true, text: 'done' });
    this.outcomes.delete(label);
    if (!outcome.ok) this.failed++;
    const counter = this.c.dim(`[${this.done}/${this.total}]`);
    const text = outcome.ok ? outcome.text : this.c.red(outcome.text);
    // on a TTY successes only advance the status line; failures stay visible above it
    if (!this.live || !outcome.ok) this.message(`${counter} ${label} ${text}`);
    this.redraw(true);
  }

  /** Prints a line without garbling the status line. */
  message(line: string): void {
    if (this.live && this.shown) this.stream.write('\r\x1b[K');
    this.stream.write(`${line}\n`);
    this.shown = false;
    if (this.live) this.draw();
  }

  /** Removes the status line; call once at the end. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.live && this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }

  /** The status line's text (also used by tests). */
  statusLine(): string {
    const parts = [`${this.done}/${this.total} done`];
    if (this.running.size) {
      const labels = [...this.running.keys()];
      const listed = labels.slice(0, 3).join(', ');
      parts.push(`running ${listed}${labels.length > 3 ? ` (+${labels.length - 3})` : ''}`);
    }
    if (this.failed) parts.push(this.c.red(`${this.failed} failed`));
    const eta = this.eta();
    if (eta !== null) parts.push(`ETA ${formatDuration(eta)}`);
    return parts.join(' | ');
  }

  private eta(): number | null {
    if (this.done === 0 || this.done >= this.total) return null;
    const perJob = (Date.now() - this.started) / this.done;
    return (perJob * (this.total - this.done)) / 1000;
  }

  private redraw(force = false): void {
    if (!this.live) return;
    const now = Date.now();
    if (force || now - this.lastDraw >= REDRAW_MS) {
      this.draw();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, REDRAW_MS).unref();
  }

  private draw(): void {
    this.lastDraw = Date.now();
    const width = this.stream.columns || 80;
    let line = this.statusLine();
    // cut by visible width so the line never wraps (ANSI codes are not visible)
    if (visibleLength(line) > width - 1) line = cut(line, width - 2) + '…';
    this.stream.write(`\r\x1b[K${line}`);
    this.shown = true;
  }
}

// eslint-disable-next-line no-control-regex -- the escape character is what ANSI colour codes start with
const ANSI = /\x1b\[[0-9;]*m/g;
function visibleLength(s: string): number {
  return s.replace(ANSI, '').length;
}
function cut(s: string, width: number): string {
  return s.replace(ANSI, '').slice(0, width);
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
