import type { OptionSpec } from '../core/options.js';
import type { RecordColumns } from '../results/columns.js';
import type { BuiltReport } from './publish-options.js';
import {
  analyzeSaturation,
  DEFAULT_SATURATION_THRESHOLD,
  parseThreshold,
  saturationTable,
  saturationVerdict,
  SWEPT,
  THROUGHPUT,
} from './saturation.js';

export const SATURATION_OPTIONS: OptionSpec[] = [
  {
    flags: '--saturation-threshold <percent>',
    description: `web-server sweeps: server CPU utilisation (% of its cores) that counts as saturated (default ${DEFAULT_SATURATION_THRESHOLD * 100})`,
    parse: (value: string) => parseThreshold(value),
  },
];

/**
 * The saturation part of a report over a web-server sweep: the analysis (for the charts) and
 * its table; when the baseline did not saturate (or CPU was not sampled), the sentence saying
 * so is added to `warnings`. Nothing for records that are not a sweep.
 */
export function saturationReport(
  results: RecordColumns,
  instances: readonly string[],
  baseline: string | undefined,
  threshold: number | undefined,
  warnings: string[],
): Pick<BuiltReport, 'saturation' | 'extraTables'> {
  // a sweep's records have both fields: only then are they read as objects
  if (!results.fields.has(SWEPT) || !results.fields.has(THROUGHPUT)) return {};
  const saturation = analyzeSaturation(results.records(), instances, { baseline, threshold });
  if (!saturation) return {};
  const base = saturation.instances.find((i) => i.instance === baseline);
  const verdict = saturationVerdict(saturation);
  if (verdict && base?.saturated !== true) warnings.push(verdict);
  const heading = baseline
    ? `Saturation: peak throughput per instance, and overheads at the saturation point of ${baseline}`
    : 'Saturation: peak throughput per instance';
  return { saturation, extraTables: [{ heading, table: saturationTable(saturation) }] };
}
