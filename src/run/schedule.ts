import { executionKey } from '../results/schema.js';

/**
 * Which executions a run makes and in which order, without running anything: submissions are
 * expanded into warm-ups and iterations, iterations a resumed run already has are skipped, and
 * what is staged before {@link Schedule.start} is interleaved across instances.
 */

export interface ScheduleOptions {
  /** Target name (part of every execution's key). */
  target: string;
  /** Iterations of a benchmark that does not set its own. */
  iterations: number;
  /** Unrecorded executions of each benchmark (per instance) before the measured ones. */
  warmup?: number;
  /** `executionKey`s already recorded as ok (a resumed run); these are not planned again. */
  skipKeys?: ReadonlySet<string>;
}

/** One execution the schedule decided on; `job` is what the submitter attached. */
export interface PlannedExecution<J> {
  instance: string;
  benchmark: string;
  /** 0-based for measured executions; -1, -2... for warm-ups. */
  iteration: number;
  /** A warm-up: run and checked, but not recorded. */
  warmup: boolean;
  job: J;
}

interface Staged<J> extends PlannedExecution<J> {
  /** Which repetition of its submission this is; warm-ups have negative rounds (they go first). */
  round: number;
  /** Submission order, for ties. */
  seq: number;
}

/** `0`, `1`... for measured iterations, `warmup1`, `warmup2`... for warm-ups (labels, log names). */
export function iterationName(iteration: number): string {
  return iteration < 0 ? `warmup${-iteration}` : String(iteration);
}

/** `instance/benchmark.iteration`, as progress lines and failure lists show an execution. */
export function executionLabel(e: Pick<PlannedExecution<unknown>, 'instance' | 'benchmark' | 'iteration'>): string {
  return `${e.instance}/${e.benchmark}.${iterationName(e.iteration)}`;
}

export class Schedule<J> {
  private readonly nextIteration = new Map<string, number>();
  private readonly instanceOrder = new Map<string, number>();
  private readonly benchmarkOrder = new Map<string, number>();
  private staged: Array<Staged<J>> = [];
  private started = false;

  constructor(private readonly options: ScheduleOptions) {}

  /** Fixes an instance's place in the interleaving order (else: its first submission). */
  addInstance(instance: string): void {
    if (!this.instanceOrder.has(instance)) this.instanceOrder.set(instance, this.instanceOrder.size);
  }

  /**
   * Plans `iterations` executions of a benchmark (default: the schedule's), preceded by the
   * warm-ups when anything is left to measure. A benchmark submitted twice for one instance
   * continues its iteration numbering, so keys stay unique. Before {@link start} the
   * executions are staged and `ready` is empty; after it they are returned to run at once.
   */
  submit(
    instance: string,
    benchmark: string,
    iterations: number | undefined,
    job: J,
  ): { ready: Array<PlannedExecution<J>>; skipped: number } {
    this.addInstance(instance);
    if (!this.benchmarkOrder.has(benchmark)) this.benchmarkOrder.set(benchmark, this.benchmarkOrder.size);
    const group = `${instance}\u0000${benchmark}`;
    const first = this.nextIteration.get(group) ?? 0;
    const count = iterations ?? this.options.iterations;
    this.nextIteration.set(group, first + count);
    const key = (iteration: number) => executionKey({ target: this.options.target, instance, benchmark, iteration });
    const planned: Array<Staged<J>> = [];
    for (let round = 0; round < count; round++) {
      if (this.options.skipKeys?.has(key(first + round))) continue;
      planned.push({ instance, benchmark, iteration: first + round, warmup: false, job, round, seq: 0 });
    }
    const warmups = planned.length > 0 ? (this.options.warmup ?? 0) : 0;
    const warm = Array.from({ length: warmups }, (_, w): Staged<J> => ({
      instance,
      benchmark,
      iteration: -(w + 1),
      warmup: true,
      job,
      round: w - warmups,
      seq: 0,
    }));
    const all = warm.length ? warm.concat(planned) : planned;
    all.forEach((s, i) => (s.seq = this.staged.length + i));
    if (this.started) return { ready: all, skipped: count - planned.length };
    // one by one: a spread of 100,000 arguments would be copied onto the stack
    for (const s of all) this.staged.push(s);
    return { ready: [], skipped: count - planned.length };
  }

  /**
   * Ends staging and returns what was staged, interleaved: round by round, benchmark by
   * benchmark, each instance in turn, with the instance order rotating every round, so slow
   * drift of the machine (thermal state, background load) does not favour one instance.
   * Later calls return nothing.
   */
  start(): Array<PlannedExecution<J>> {
    if (this.started) return [];
    this.started = true;
    const instances = this.instanceOrder.size;
    // round r puts instance (r mod n) first: A B, B A, A B... per benchmark
    const turn = (s: Staged<J>) => (this.instanceOrder.get(s.instance)! - (s.round % instances) + instances) % instances;
    const order = this.staged.sort(
      (a, b) =>
        a.round - b.round ||
        this.benchmarkOrder.get(a.benchmark)! - this.benchmarkOrder.get(b.benchmark)! ||
        turn(a) - turn(b) ||
        a.seq - b.seq,
    );
    this.staged = [];
    // the staged objects themselves (their ordering fields unused from here): no copy of each
    return order;
  }
}
