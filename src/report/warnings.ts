import * as stats from './stats.js';
import { describeFailures, type Grouped } from './select.js';
import { getField } from './fields.js';

/** Fewer successful iterations than this and a group's numbers are flagged. */
export const MIN_ITERATIONS = 3;
/** Coefficient of variation above which a group's measurements are flagged as noisy. */
export const MAX_CV = 0.05;

/**
 * Collects warnings about the data behind a report, one line per kind of problem listing
 * every affected group (all of them: which benchmarks are noisy is what the reader needs).
 */
export class ReportWarnings {
  private readonly kinds = new Map<string, string[]>();

  add(kind: string, subject: string): void {
    let list = this.kinds.get(kind);
    if (!list) this.kinds.set(kind, (list = []));
    list.push(subject);
  }

  get size(): number {
    return this.kinds.size;
  }

  lines(): string[] {
    return [...this.kinds].map(([kind, subjects]) => `${kind}: ${subjects.join('; ')}`);
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
        const xs: number[] = [];
        for (const r of cell.ok) {
          const v = getField(r, field);
          if (typeof v === 'number') xs.push(v);
        }
        if (xs.length < 2) continue;
        const c = stats.cv(xs);
        if (c > MAX_CV) w.add(`coefficient of variation above ${MAX_CV * 100}%`, `${where(inst)} ${field}: ${(c * 100).toFixed(1)}%`);
      }
    }
  }
  return w;
}
