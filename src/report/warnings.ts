import * as stats from './stats.js';
import { describeFailures, type Grouped } from './select.js';

/** Fewer successful iterations than this and a group's numbers are flagged. */
export const MIN_ITERATIONS = 3;
/** Coefficient of variation above which a group's measurements are flagged as noisy. */
export const MAX_CV = 0.05;
/** Half-width of the 95% confidence interval of the mean that the suggested iterations aim at. */
export const TARGET_HALF_WIDTH = 0.02;

/**
 * Iterations for the 95% confidence interval of the mean to be within ±{@link TARGET_HALF_WIDTH}
 * of it, if the noise stays as the samples show: n = (1.96 s / (h mean))², s the sample
 * standard deviation (the normal approximation pyperf's and hyperfine's advice rests on too).
 */
export function iterationsFor(xs: readonly number[]): number {
  const m = stats.mean(xs);
  if (xs.length < 2 || m === 0) return xs.length;
  const n = Math.ceil(((1.96 * stats.sampleStdev(xs)) / (TARGET_HALF_WIDTH * Math.abs(m))) ** 2);
  return Math.max(n, xs.length);
}

export const ITERATIONS_NOTE =
  `-i N after a coefficient of variation: the iterations for the 95% confidence interval of the mean to be within ±${TARGET_HALF_WIDTH * 100}%, ` +
  `n = (1.96 s / (${TARGET_HALF_WIDTH} mean))² with s the samples' standard deviation; it assumes the noise stays as it is, ` +
  'so first look for its cause (other load, frequency scaling, a benchmark too short to time)';

/**
 * Collects warnings about the data behind a report, one line per kind of problem listing
 * every affected group (all of them: which benchmarks are noisy is what the reader needs).
 */
export class ReportWarnings {
  private readonly kinds = new Map<string, string[]>();
  private readonly standalone = new Set<string>();

  add(kind: string, subject: string): void {
    let list = this.kinds.get(kind);
    if (!list) this.kinds.set(kind, (list = []));
    list.push(subject);
  }

  /** A line of its own (said once however often it is added). */
  note(line: string): void {
    this.standalone.add(line);
  }

  get size(): number {
    return this.kinds.size + this.standalone.size;
  }

  lines(): string[] {
    return [...[...this.kinds].map(([kind, subjects]) => `${kind}: ${subjects.join('; ')}`), ...this.standalone];
  }
}

/**
 * Checks every group/instance: failures, too few iterations, high variation of the numeric
 * `fields`, and results missing for some instance (the baseline especially).
 */
export function checkGroups(data: Grouped, fields: readonly string[], baseline?: string): ReportWarnings {
  const w = new ReportWarnings();
  for (const group of data.groups) {
    const row = data.cells.get(group)!;
    const where = (inst: string) => `${group || '(none)'} [${inst}]`;
    for (const inst of data.instances) {
      const cell = row.get(inst);
      if (!cell) {
        if (inst === baseline) w.add(`baseline '${baseline}' has no results for`, group || '(none)');
        else w.add('no results for', where(inst));
        continue;
      }
      if (cell.failures.size)
        w.add('unsuccessful executions (shown, not aggregated)', `${where(inst)}: ${describeFailures(cell.failures)}`);
      if (!cell.ok.length) {
        if (inst === baseline) w.add(`baseline '${baseline}' has no successful results for`, group || '(none)');
        continue;
      }
      if (cell.ok.length < MIN_ITERATIONS) w.add(`fewer than ${MIN_ITERATIONS} successful iterations`, `${where(inst)}: ${cell.ok.length}`);
      for (const field of fields) {
        const xs = cell.numbers(field);
        if (xs.length < 2) continue;
        const c = stats.cv(xs);
        if (c > MAX_CV) {
          const n = iterationsFor(xs);
          w.add(`coefficient of variation above ${MAX_CV * 100}%`, `${where(inst)} ${field}: ${(c * 100).toFixed(1)}% (-i ${n})`);
          w.note(ITERATIONS_NOTE);
        }
      }
    }
  }
  return w;
}
