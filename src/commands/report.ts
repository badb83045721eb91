import type { Context } from '../core/context.js';
import { unknownName, UserError } from '../core/errors.js';
import type { OptionSpec } from '../core/options.js';
import type { Target } from '../core/target.js';
import { getAggregation, AGGREGATIONS } from '../report/aggregate.js';
import { aggregatedTable, summaryRow } from '../report/aggregated.js';
import { helpFieldsText, knownFields, parseFieldSpecs, RECORD_KEYS, type FieldSpec } from '../report/fields.js';
import { overheadTable } from '../report/overhead.js';
import { DEFAULT_RAW_FIELDS, rawTable } from '../report/raw.js';
import {
  applyFilters,
  distinctValues,
  groupColumns,
  naturalCompare,
  parseFilters,
  selectInstances,
  selectTarget,
  type Grouped,
} from '../report/select.js';
import { TABLE_FORMATS, type ReportTable, type TableFormat } from '../report/table.js';
import { checkGroups } from '../report/warnings.js';
import type { BuiltReport } from '../report/publish-options.js';
import { ONE_TABLE_FORMATS, PUBLISH_OPTIONS, reportTextOf, writeOutput } from '../report/publish-options.js';
import { saturationReport, SATURATION_OPTIONS } from '../report/saturation-report.js';
import { metaDifferences } from '../report/meta-diff.js';
import { describeRunFields, namesRunField, withRunFields } from '../report/run-fields.js';
import { loadWarnings } from '../report/load-warnings.js';
import { annotateUnits } from '../report/units.js';
import { readRunInfo, type RunInfo } from '../results/meta.js';
import { incompleteRunWarnings, readResults } from '../results/read.js';
import { RecordColumns } from '../results/columns.js';

export interface ReportOptions {
  /** Run directories, `results/last`, directories of runs, or Python-style result directories. */
  rundirs: string[];
  /** Instances to report, in this order (default: all present). */
  instances?: string[];
  /** `FIELD:AGG[:AGG...]` (or plain `FIELD` with `raw`). */
  field?: string[];
  /** Baseline instance: report the others as ratios to it, with significance tests. */
  overhead?: string;
  /** Field to group on (default: the target's `aggregationField`). */
  groupby?: string;
  /** `KEY=VALUE`: keep only matching records (repeat a key to accept several values). */
  filter?: string[];
  /** One row per execution, no aggregation. */
  raw?: boolean;
  /** Adds a summary row applying this aggregation to each column. */
  aggregate?: string;
  /** List the fields and aggregations instead of reporting. */
  helpFields?: boolean;
  /** Decimals of numbers in human formats (default 3). */
  precision?: number;
  /** Write the table here instead of stdout. */
  outfile?: string;
  /** Output format (default fancy). */
  table?: TableFormat;
  /** The reference's shorthands for `table`: `--csv` is `--table csv`. */
  csv?: boolean;
  tsv?: boolean;
  ssv?: boolean;
  ascii?: boolean;
  /** With `overhead`: bootstrap 95% confidence interval of the ratio of medians. */
  ci?: boolean;
  /** Also write the report as one self-contained HTML page (charts, tables, warnings, platform). */
  html?: string;
  /** Also write each chart as a standalone SVG file into this directory. */
  figures?: string;
  /** Web-server sweeps: the share of its cores (0-1) at which a server counts as saturated. */
  saturationThreshold?: number;
}

/** Fields reported when no `-f` is given. */
export const DEFAULT_FIELDS = ['runtime:count:median:stdev_percent'];
export const DEFAULT_OVERHEAD_FIELDS = ['runtime:median', 'maxrss:median'];

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UserError(`--precision must be a non-negative integer, got '${value}'`);
  return n;
}

const TABLE_SHORTHANDS = ['csv', 'tsv', 'ssv', 'ascii'] as const;

const append = (value: string, previous: unknown): string[] => [...((previous as string[] | undefined) ?? []), value];

export const reportOptionSpecs: OptionSpec[] = [
  { flags: '-i, --instances <names...>', description: 'instances to report, in this order (default: all in the results)' },
  {
    flags: '-f, --field <specs...>',
    description:
      `FIELD:AGGREGATION[:AGGREGATION...] per reported field (default: ${DEFAULT_FIELDS.join(' ')}; ` +
      `with --overhead: ${DEFAULT_OVERHEAD_FIELDS.join(' ')}; with --raw: plain field names); see --help-fields`,
  },
  {
    flags: '--overhead <baseline>',
    description: 'report other instances as ratios to this one, with significance tests and a geomean row',
  },
  { flags: '--ci', description: 'with --overhead: add a bootstrap 95% confidence interval of the ratio of medians' },
  { flags: '--groupby <field>', description: "field to group results on (default: the target's aggregation field, usually benchmark)" },
  { flags: '--filter <key=value>', description: 'keep only results whose field has this value (repeatable)', parse: append },
  { flags: '--raw', description: 'print every execution without aggregating' },
  {
    flags: '--aggregate <fn>',
    description: 'add a summary row applying this aggregation to every column',
    choices: Object.keys(AGGREGATIONS),
  },
  { flags: '--help-fields', description: 'list the reportable fields and aggregations' },
  { flags: '--precision <n>', description: 'decimals shown for numbers', default: 3, parse: nonNegativeInt },
  { flags: '-o, --outfile <path>', description: 'write the table to this file instead of standard output' },
  { flags: '--table <format>', description: 'output format', default: 'fancy', choices: TABLE_FORMATS },
  ...TABLE_SHORTHANDS.map((f) => ({ flags: `--${f}`, description: `same as --table ${f}` })),
  ...PUBLISH_OPTIONS,
  ...SATURATION_OPTIONS,
];

/** The table is printed on standard output: no -o, and no page or figures asked for instead. */
const tableOnTerminal = (opts: ReportOptions): boolean => !opts.outfile && !opts.html && !opts.figures;

/** Output format from `--table` or one of its shorthands. */
function tableFormat(opts: ReportOptions): TableFormat {
  const given = TABLE_SHORTHANDS.filter((f) => opts[f]);
  if (given.length > 1) throw new UserError(`choose one output format, not ${given.map((f) => `--${f}`).join(' and ')}`, { exitCode: 2 });
  return given[0] ?? opts.table ?? 'fancy';
}

/**
 * `infra report TARGET RUNDIR...`: reads the results, aggregates them per group and instance,
 * and prints a table; warnings about the data go to the log and under the table.
 */
export async function report(ctx: Context, target: Target, opts: ReportOptions): Promise<void> {
  const built = await buildReport(ctx, target, opts);
  if (typeof built === 'string') return writeOutput(ctx, built, opts.outfile);
  const format = tableFormat(opts);
  const text = reportTextOf(built, format, opts.precision ?? 3);
  if (ONE_TABLE_FORMATS.includes(format)) {
    for (const t of built.extraTables ?? [])
      ctx.log.warning(`${format} holds one table: '${t.heading}' is left out (it is in --json, the other formats and --html)`);
  }
  if (opts.html || opts.figures) {
    const { writeReportPublications } = await import('../report/publish.js');
    await writeReportPublications(ctx, built, { ...opts, title: `Report of ${target.name}` });
  }
  // with --html or --figures the table goes to the terminal only when asked for with -o
  if (opts.outfile || tableOnTerminal(opts)) await writeOutput(ctx, text, opts.outfile);
}

/** The report as text, exactly as `report` prints it. */
export async function reportText(ctx: Context, target: Target, opts: ReportOptions): Promise<string> {
  const built = await buildReport(ctx, target, opts);
  return typeof built === 'string' ? built : reportTextOf(built, tableFormat(opts), opts.precision ?? 3);
}

/**
 * Reads, selects and aggregates the results into the report's table, keeping what charts
 * need (the grouped data, the fields); the text of `--help-fields` instead when asked for.
 * Warnings about the data are the table's notes (a page shows them all); they are also logged
 * when the chosen format does not print notes, or the table goes to a file.
 */
export async function buildReport(ctx: Context, target: Target, opts: ReportOptions): Promise<BuiltReport | string> {
  const format = tableFormat(opts);
  if (!TABLE_FORMATS.includes(format)) throw unknownName('table format', format, TABLE_FORMATS);
  const precision = opts.precision ?? 3;
  if (!Number.isInteger(precision) || precision < 0) throw new UserError(`--precision must be a non-negative integer, got '${precision}'`);
  if (opts.raw && opts.overhead)
    throw new UserError('--raw and --overhead cannot be combined: --raw prints executions without aggregating');
  if (!opts.rundirs.length) throw new UserError('no results directories given (e.g. results/last)');

  const read = await readResults(ctx, target, opts.rundirs);
  const runs = read.runDirs.map(readRunInfo);
  const all = read.columns;
  const ofTarget = selectTarget(all, target.name);
  const runFields = opts.helpFields || namesRunField([opts.groupby, ...(opts.filter ?? []), ...(opts.field ?? [])]);
  // the run fields are added to records as objects: only when a report names them
  const records = runFields ? RecordColumns.fromRecords(withRunFields(ofTarget.records(), runs, read.legacyDirs.length > 0)) : ofTarget;
  if (!records.length && all.length) {
    const present = [...distinctValues(all, 'target')].sort(naturalCompare);
    throw new UserError(`no results of target '${target.name}' in ${opts.rundirs.join(', ')}; targets present: ${present.join(', ')}`);
  }
  if (opts.helpFields) return helpFieldsText(target, records);
  if (!records.length) throw new UserError(`no results of target '${target.name}' in ${opts.rundirs.join(', ')}`);

  const known = knownFields(target, records);
  describeRunFields(known);
  const selected = applyFilters(records, parseFilters(opts.filter ?? [], known));
  if (!selected.length) throw new UserError(`no results match --filter ${(opts.filter ?? []).join(' ')}`);
  const instances = selectInstances(distinctValues(selected, 'instance'), opts.instances, opts.overhead);

  const warnings: string[] = [];
  const own = opts.raw || opts.overhead || opts.field?.length ? undefined : targetTable(target, selected, instances, runs, opts);
  const built = own
    ? { table: own }
    : opts.raw
      ? { table: rawReport(selected, known, instances, opts) }
      : aggregatedReport(target, selected, known, instances, opts, warnings);
  if (!own) annotateUnits(built.table, known);
  for (const d of metaDifferences(runs, true))
    warnings.push(`the runs differ in ${d.what}: ${d.values.map((v, i) => `${v} (${runs.filter((r) => r.meta)[i]!.dir})`).join(', ')}`);
  warnings.push(...incompleteRunWarnings(read.runDirs, read.recorded));
  warnings.push(...loadWarnings(runs));
  const extra = opts.raw ? {} : saturationReport(selected, instances, opts.overhead, opts.saturationThreshold, warnings);
  // each warning is shown once on the terminal: under a table printed there with its notes, else on stderr
  built.table.notes.push(...warnings.map((w) => `warning: ${w}`));
  if (!tableOnTerminal(opts) || !NOTED_FORMATS.includes(format)) for (const w of warnings) ctx.log.warning(w);
  return { ...built, known, runs, results: selected, groupby: opts.groupby ?? target.aggregationField, instances, ...extra };
}

/** The target's own summary (`Target.reportTable`), given what it recorded with each run. */
function targetTable(
  target: Target,
  records: RecordColumns,
  instances: string[],
  runs: RunInfo[],
  opts: ReportOptions,
): ReportTable | undefined {
  const runDescriptions = new Map<string, Array<Record<string, unknown>>>();
  for (const { meta } of runs) {
    if (meta?.target !== target.name) continue;
    for (const inst of meta.instances) {
      const described = inst.target;
      if (described && typeof described === 'object')
        runDescriptions.set(inst.name, [...(runDescriptions.get(inst.name) ?? []), described as Record<string, unknown>]);
    }
  }
  const own = target.reportTable({
    // read as objects only if the target looks at them
    get records() {
      return records.records();
    },
    instances,
    groupby: opts.groupby ?? target.aggregationField,
    runDescriptions,
  });
  return own && { ...own, summary: [] };
}

function rawReport(records: RecordColumns, known: Map<string, string>, instances: string[], opts: ReportOptions): ReportTable {
  const specs = parseFieldSpecs(opts.field?.length ? opts.field : DEFAULT_RAW_FIELDS, known, false);
  const withAgg = specs.find((s) => s.aggregations.length);
  if (withAgg)
    throw new UserError(
      `--raw prints values without aggregating; use '-f ${withAgg.field}' instead of '${withAgg.field}:${withAgg.aggregations.join(':')}'`,
    );
  const table = rawTable(records.records(), specs, instances);
  if (opts.aggregate) table.summary.push(summaryRow(table, opts.aggregate));
  return table;
}

/** Formats that print a table's notes (the others are data for programs). */
const NOTED_FORMATS: readonly TableFormat[] = ['fancy', 'ascii', 'markdown', 'json', 'latex'];

/** The aggregated (or overhead) table; warnings about the data are added to `warnings`. */
function aggregatedReport(
  target: Target,
  records: RecordColumns,
  known: Map<string, string>,
  instances: string[],
  opts: ReportOptions,
  warnings: string[],
): { table: ReportTable; data: Grouped; specs: FieldSpec[]; baseline?: string } {
  const groupby = opts.groupby ?? target.aggregationField;
  if (!known.has(groupby)) throw unknownName('field', groupby, known.keys());
  const specs = parseFieldSpecs(opts.field?.length ? opts.field : defaultFields([records], !!opts.overhead), known, true);
  if (opts.aggregate) getAggregation(opts.aggregate);
  const data = groupColumns(records, groupby, instances);

  let table: ReportTable;
  if (opts.overhead) {
    const o = overheadTable(data, specs, { baseline: opts.overhead, ci: opts.ci });
    table = o.table;
    if (opts.aggregate === 'mean' && o.ratioColumns.size)
      warnings.push('the arithmetic mean of ratios misstates overheads; use the geomean row');
  } else {
    table = aggregatedTable(data, specs);
  }
  if (opts.aggregate) table.summary.push(summaryRow(table, opts.aggregate));

  warnings.push(...checkGroups(data, measuredFields(specs), opts.overhead).lines());
  return { table, data, specs, ...(opts.overhead ? { baseline: opts.overhead } : {}) };
}

/** The default fields that occur in the results (so Python-era results without maxrss stay tidy). */
export function defaultFields(results: readonly RecordColumns[], overhead: boolean): string[] {
  const defaults = overhead ? DEFAULT_OVERHEAD_FIELDS : DEFAULT_FIELDS;
  const present = defaults.filter((spec) => results.some((r) => r.fields.has(spec.split(':')[0]!)));
  return present.length ? present : defaults.slice(0, 1);
}

/** Fields whose variation is worth a warning: numbers on their own scale, not record keys. */
export function measuredFields(specs: FieldSpec[]): string[] {
  return [
    ...new Set(specs.filter((s) => !(s.field in RECORD_KEYS) && s.aggregations.some((a) => getAggregation(a).scaled)).map((s) => s.field)),
  ];
}
