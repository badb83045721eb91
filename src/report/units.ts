import type { ReportTable } from './table.js';

/** The unit a field's description names (`..., seconds`, `..., KiB`, `requests per second`). */
export function fieldUnit(description: string | undefined): string | undefined {
  if (!description) return undefined;
  const named = /,\s*(seconds|ms|KiB|MiB|bytes|%[^,(]*)(?=\s*(?:\(|,|$))/.exec(description);
  if (named) return named[1]!.trim();
  const rate = /^(\w+) (?:read )?per second/.exec(description);
  return rate ? `${rate[1]}/s` : undefined;
}

/** `runtime (seconds)`: a field with its unit, for an axis. */
export function axisTitle(field: string, description: string | undefined): string {
  const unit = fieldUnit(description);
  return unit ? `${field} (${unit})` : field;
}

/** Gives the table's columns of a field's values the unit the field's description names. */
export function annotateUnits(table: ReportTable, known: ReadonlyMap<string, string>): void {
  for (const c of table.columns) {
    if (!c.field || c.unit) continue;
    const unit = fieldUnit(known.get(c.field));
    if (unit) c.unit = unit;
  }
}
