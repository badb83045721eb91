import { isTerminal, useColor } from '../core/log.js';
import pc from 'picocolors';
import type { PoolObserver } from './pool.js';

export interface ProgressOptions {
  /** Default: process.stderr. */
  stream?: NodeJS.WriteStream;
  /** Redraw a status block in place (default: whether the stream is a TTY). */
  live?: boolean;
  /** Default: by the NO_COLOR / FORCE_COLOR conventions, else only on a TTY. */
  color?: boolean;
  /** How many jobs run at once, for the ETA (default: the most seen running at once). */
  slots?: number;
  /**
   * How many of the started jobs really run at once, when a backend holds more than it runs
   * (executions waiting in a cluster job's batch); the others are shown as waiting to start.
   */
  runningAtOnce?: number;
  /**
   * Jobs whose durations predict each other. Default: the label without its last `.part`, so
   * the iterations of one benchmark with one instance (`instance/benchmark.N`) form a group.
   */
  groupOf?: (label: string) => string;
  /** The clock, in milliseconds (tests give their own). */
  now?: () => number;
}

type Outcome = { ok: boolean; text: string };

/** Events redraw at most this often; a timer redraws at least once a second in between. */
const REDRAW_MS = 100;
const TICK_MS = 1000;
/** Running jobs listed under the bar; the rest are counted. */
const RUNNING_SHOWN = 4;

/**
 * Shows how a run advances. On a TTY: a status block on stderr, redrawn in place at least once a
 * second — a bar of finished jobs, elapsed time, an ETA, failures, and the running jobs with how
 * long each has run — with failures printed above it. Otherwise one plain line per finished job.
 * Give it to a {@link JobPool} as its observer, and call {@link report} from a job to describe
 * its outcome.
 */
export class Progress implements PoolObserver {
  private readonly stream: NodeJS.WriteStream;
  private readonly live: boolean;
  private readonly c: ReturnType<typeof pc.createColors>;
  private readonly now: () => number;
  private readonly groupOf: (label: string) => string;
  private readonly eta: EtaEstimator;
  private readonly runningAtOnce: number;
  private total = 0;
  private done = 0;
  private failed = 0;
  private readonly running = new Map<string, number>();
  private readonly outcomes = new Map<string, Outcome>();
  private readonly started: number;
  private lastDraw = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  /** Lines of the status block on the screen now (0: none). */
  private drawn = 0;
  /** Lines of finished jobs not written yet (see {@link later}). */
  private pending = '';
  private flushing: NodeJS.Immediate | undefined;

  constructor(options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.live = options.live ?? isTerminal(this.stream);
    this.c = pc.createColors(options.color ?? useColor(this.stream));
    this.now = options.now ?? Date.now;
    this.groupOf = options.groupOf ?? ((label) => label.replace(/\.[^./]*$/, ''));
    this.eta = new EtaEstimator(options.slots);
    this.runningAtOnce = options.runningAtOnce ?? Infinity;
    this.started = this.now();
  }

  jobAdded(label: string): void {
    this.total++;
    this.eta.add(this.groupOf(label));
    if (this.live) this.ticker ??= setInterval(() => this.draw(), TICK_MS).unref();
    this.redraw();
  }

  jobStarted(label: string): void {
    this.running.set(label, this.now());
    this.eta.start(this.groupOf(label), this.running.size);
    this.redraw();
  }

  /** Describes a job's outcome (called by the job before it returns). */
  report(label: string, ok: boolean, text: string): void {
    this.outcomes.set(label, { ok, text });
  }

  jobFinished(label: string, error: unknown): void {
    const startedAt = this.running.get(label);
    this.running.delete(label);
    if (startedAt !== undefined) this.eta.finish(this.groupOf(label), this.now() - startedAt);
    this.done++;
    const outcome: Outcome =
      error !== undefined
        ? { ok: false, text: `error: ${error instanceof Error ? error.message : JSON.stringify(error)}` }
        : (this.outcomes.get(label) ?? { ok: true, text: 'done' });
    this.outcomes.delete(label);
    if (!outcome.ok) this.failed++;
    const counter = this.c.dim(`[${this.done}/${this.total}]`);
    const text = outcome.ok ? outcome.text : this.c.red(outcome.text);
    // on a TTY successes only advance the bar; failures stay visible above it. Off a
    // terminal, a success's line is written once the next jobs have started (they start in
    // this turn of the event loop), so it is not in the way of the next execution
    if (!outcome.ok) this.message(`${counter} ${label} ${text}`);
    else if (!this.live) this.later(`${counter} ${label} ${text}`);
    // at most one redraw per REDRAW_MS however many jobs finish: thousands of short executions
    // a second must not cost a status block each
    this.redraw();
  }

  /** Prints a line without garbling the status block. */
  message(line: string): void {
    this.flush();
    this.erase();
    this.stream.write(`${line}\n`);
    if (this.live && this.total > 0) this.draw();
  }

  /** Removes the status block and stops redrawing; call once at the end. */
  close(): void {
    this.flush();
    if (this.timer) clearTimeout(this.timer);
    if (this.ticker) clearInterval(this.ticker);
    this.timer = this.ticker = undefined;
    this.erase();
  }

  /** Milliseconds since the display was created. */
  elapsedMs(): number {
    return this.now() - this.started;
  }

  /** The status block's lines, uncut (also used by tests): the bar line, then the running jobs. */
  statusLines(barWidth = 24): string[] {
    const c = this.c;
    const filled = this.total ? Math.round((barWidth * this.done) / this.total) : 0;
    const bar = c.green('█'.repeat(filled)) + c.dim('░'.repeat(barWidth - filled));
    const percent = this.total ? Math.floor((100 * this.done) / this.total) : 0;
    const parts = [`${bar} ${this.done}/${this.total} ${percent}%`, `elapsed ${formatDuration(this.elapsedMs() / 1000)}`];
    const running = [...this.running].map(([label, since]) => ({ group: this.groupOf(label), since }));
    const eta = this.eta.remainingMs(this.now(), running);
    if (eta !== null && this.done < this.total) parts.push(`ETA ${formatDuration(eta / 1000)}`);
    if (this.failed) parts.push(c.red(`${this.failed} failed`));
    const lines = [parts.join('  ')];
    const longest = [...this.running].sort((a, b) => a[1] - b[1]);
    const active = Math.min(longest.length, this.runningAtOnce);
    for (const [label, since] of longest.slice(0, Math.min(active, RUNNING_SHOWN))) {
      lines.push(`  ${c.cyan('running')} ${label} ${c.dim(formatDuration((this.now() - since) / 1000))}`);
    }
    if (active > RUNNING_SHOWN) lines.push(c.dim(`  ... and ${active - RUNNING_SHOWN} more running`));
    if (longest.length > active) lines.push(c.dim(`  ... and ${longest.length - active} more waiting to start`));
    return lines;
  }

  /** Queues a line for {@link flush}, which runs after this turn's I/O callbacks and timers. */
  private later(line: string): void {
    this.pending += `${line}\n`;
    if (!this.flushing) this.flushing = setImmediate(() => this.flush());
  }

  /** Writes the queued lines, in one write. */
  private flush(): void {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = undefined;
    if (!this.pending) return;
    const text = this.pending;
    this.pending = '';
    this.stream.write(text);
  }

  private redraw(force = false): void {
    if (!this.live) return;
    const now = this.now();
    if (force || now - this.lastDraw >= REDRAW_MS) {
      this.draw();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, REDRAW_MS).unref();
  }

  /** Takes the status block off the screen (the cursor ends where it began). */
  private erase(): void {
    if (!this.live || this.drawn === 0) return;
    this.stream.write(`\r${'\x1b[1A'.repeat(this.drawn - 1)}\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    if (!this.live) return;
    this.lastDraw = this.now();
    const width = this.stream.columns || 80;
    // cut by visible width so no line wraps (ANSI codes are not visible)
    const lines = this.statusLines().map((l) => (visibleLength(l) > width - 1 ? cut(l, width - 2) + '…' : l));
    this.erase();
    this.stream.write(lines.join('\n'));
    this.drawn = lines.length;
  }
}

/**
 * Estimates the time left from the durations already seen: a job is expected to take as long
 * as the finished jobs of its group took on average, or (none finished yet) as long as all
 * finished jobs; the work left is shared by the slots that run at once.
 */
export class EtaEstimator {
  private readonly byGroup = new Map<string, { sum: number; n: number }>();
  private readonly overall = { sum: 0, n: 0 };
  /** Jobs added and not started, by group. */
  private readonly queued = new Map<string, number>();
  private peak = 0;

  constructor(private readonly slots?: number) {}

  add(group: string): void {
    this.queued.set(group, (this.queued.get(group) ?? 0) + 1);
  }

  start(group: string, runningNow: number): void {
    this.queued.set(group, Math.max(0, (this.queued.get(group) ?? 0) - 1));
    this.peak = Math.max(this.peak, runningNow);
  }

  finish(group: string, durationMs: number): void {
    const g = this.byGroup.get(group) ?? { sum: 0, n: 0 };
    g.sum += durationMs;
    g.n++;
    this.byGroup.set(group, g);
    this.overall.sum += durationMs;
    this.overall.n++;
  }

  /** Expected duration of a job of this group, or null before any job finished. */
  expectedMs(group: string): number | null {
    const g = this.byGroup.get(group);
    if (g?.n) return g.sum / g.n;
    return this.overall.n ? this.overall.sum / this.overall.n : null;
  }

  /** Milliseconds left, given the running jobs and their start times; null when nothing is known yet. */
  remainingMs(now: number, running: ReadonlyArray<{ group: string; since: number }>): number | null {
    if (this.overall.n === 0) return null;
    let work = 0;
    let jobs = 0;
    for (const [group, n] of this.queued) {
      work += n * this.expectedMs(group)!;
      jobs += n;
    }
    for (const { group, since } of running) {
      work += Math.max(0, this.expectedMs(group)! - (now - since));
      jobs++;
    }
    const slots = Math.max(1, Math.min(this.slots ?? this.peak, jobs));
    return work / slots;
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
