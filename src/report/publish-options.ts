import { writeWhole } from '../util/fs-errors.js';
import type { Context } from '../core/context.js';
import type { OptionSpec } from '../core/options.js';
import type { RunInfo } from '../results/meta.js';
import type { FieldSpec } from './fields.js';
import type { Grouped } from './select.js';
import type { RecordColumns } from '../results/columns.js';
import type { SaturationAnalysis } from './saturation.js';
import { formatJsonTables, formatTable, type ReportTable, type TableFormat } from './table.js';

/** A report before formatting: its table, and what its charts and HTML page are drawn from. */
export interface BuiltReport {
  table: ReportTable;
  /** Every field that can be named, with its description (units for axis titles). */
  known: Map<string, string>;
  /** The run directories read, with their meta.json. */
  runs: RunInfo[];
  /** Absent with `--raw`, which has nothing to chart. */
  data?: Grouped;
  specs?: FieldSpec[];
  baseline?: string;
  /** The selected records and the field they are grouped on (charts of sweeps and test suites). */
  results?: RecordColumns;
  groupby?: string;
  instances?: string[];
  /** For a web-server sweep: the peaks and the overheads at the baseline's saturation point. */
  saturation?: SaturationAnalysis;
  /** Tables printed after the main one in human formats, and shown on the page. */
  extraTables?: Array<{ heading: string; table: ReportTable }>;
}

/** Formats that show a second table after the first; JSON holds it under `tables`. */
const STACKED: readonly TableFormat[] = ['fancy', 'ascii', 'markdown', 'latex'];
/** Formats of one table only: a report's extra tables are left out of them. */
export const ONE_TABLE_FORMATS: readonly TableFormat[] = ['csv', 'tsv', 'ssv'];

/**
 * The report's text: its table, then in human formats each extra table under its heading; in
 * JSON the extra tables are under `tables`. The one-table formats (csv, tsv, ssv) hold the
 * main table only.
 */
export function reportTextOf(built: BuiltReport, format: TableFormat, precision: number): string {
  if (format === 'json') return formatJsonTables(built.table, built.extraTables ?? []);
  const parts = [formatTable(built.table, format, precision)];
  if (STACKED.includes(format)) {
    const comment = format === 'latex' ? '% ' : '';
    for (const t of built.extraTables ?? []) parts.push(`\n${comment}${t.heading}\n${formatTable(t.table, format, precision)}`);
  }
  return parts.join('');
}

/** The options of `report` and `compare` that write pages and figures besides the table. */
export const PUBLISH_OPTIONS: OptionSpec[] = [
  { flags: '--html <file>', description: 'also write a self-contained HTML page: charts, tables, warnings, platform and command lines' },
  { flags: '--figures <dir>', description: 'also write every chart as a standalone SVG file into this directory' },
];

/** Writes text to a file (creating its directory) or, without one, to standard output. */
export async function writeOutput(ctx: Context, text: string, file: string | undefined, what = 'report'): Promise<void> {
  if (file) {
    await writeWhole(file, text, `cannot write the ${what} to`);
    ctx.log.info(`${what} written to ${file}`);
  } else {
    await new Promise<void>((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
  }
}
