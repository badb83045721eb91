import { basename } from 'node:path';
import type { Context } from '../core/context.js';
import { unknownName, UserError } from '../core/errors.js';
import { nonNegativeInt, type OptionSpec } from '../core/options.js';
import type { Setup } from '../core/setup.js';
import { compareCharts, compareTable, type RunPair } from '../report/compare.js';
import { knownFields, parseFieldSpecs } from '../report/fields.js';
import { metaDifferences, shortCommit } from '../report/meta-diff.js';
import { loadWarnings } from '../report/load-warnings.js';
import { PUBLISH_OPTIONS, writeOutput, type BuiltReport } from '../report/publish-options.js';
import { applyFilters, distinctValues, groupColumns, naturalCompare, parseFilters, selectTarget } from '../report/select.js';
import type { RecordColumns } from '../results/columns.js';
import { annotateUnits } from '../report/units.js';
import { checkGroups } from '../report/warnings.js';
import { formatTable, TABLE_FORMATS, type TableFormat } from '../report/table.js';
import { readRunInfo, type RunInfo } from '../results/meta.js';
import { readResults } from '../results/read.js';
import { recordedTarget } from '../results/recorded-target.js';
import { DEFAULT_OVERHEAD_FIELDS, defaultFields, measuredFields } from './report.js';

export interface CompareOptions {
  /** The reference run. */
  runA: string;
  /** The run compared with it. */
  runB: string;
  /** `FIELD:AGG[:AGG...]` (default runtime:median and maxrss:median). */
  field?: string[];
  instances?: string[];
  /** The target, when the runs hold results of several. */
  target?: string;
  groupby?: string;
  filter?: string[];
  /** Percent a significant change must exceed to count (default 1). */
  threshold?: number;
  /** Fields where larger is better (default: rates, `... per second`). */
  higherIsBetter?: string[];
  ci?: boolean;
  precision?: number;
  outfile?: string;
  table?: TableFormat;
  html?: string;
  figures?: string;
}

function percent(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UserError(`--threshold must be a non-negative percentage, got '${value}'`);
  return n;
}

const append = (value: string, previous: unknown): string[] => [...((previous as string[] | undefined) ?? []), value];

export const compareOptionSpecs: OptionSpec[] = [
  {
    flags: '-f, --field <specs...>',
    description: `FIELD:AGGREGATION[:AGGREGATION...] to compare (default: ${DEFAULT_OVERHEAD_FIELDS.join(' ')})`,
  },
  { flags: '-i, --instances <names...>', description: 'instances to compare, in this order (default: all in both runs)' },
  { flags: '--threshold <percent>', description: 'a significant change counts only beyond this many percent', default: 1, parse: percent },
  { flags: '--higher-is-better <fields...>', description: 'fields where larger values are better (default: rates, e.g. throughput)' },
  { flags: '--ci', description: 'add a bootstrap 95% confidence interval of the ratio of medians' },
  { flags: '-t, --target <name>', description: 'the target to compare when the runs hold results of several' },
  { flags: '--groupby <field>', description: "field to group results on (default: the target's aggregation field)" },
  { flags: '--filter <key=value>', description: 'keep only results whose field has this value (repeatable)', parse: append },
  { flags: '--precision <n>', description: 'decimals shown for numbers', default: 3, parse: nonNegativeInt('--precision') },
  { flags: '-o, --outfile <path>', description: 'write the table to this file instead of standard output' },
  { flags: '--table <format>', description: 'output format', default: 'fancy', choices: TABLE_FORMATS },
  ...PUBLISH_OPTIONS,
];

/**
 * `infra compare RUN_A RUN_B`: per group and instance the ratio of run B to run A with its
 * significance and a verdict, the runs' commits, and warnings where their settings differ.
 */
export async function compareRuns(setup: Setup, ctx: Context, opts: CompareOptions): Promise<void> {
  const format = opts.table ?? 'fancy';
  if (!TABLE_FORMATS.includes(format)) throw unknownName('table format', format, TABLE_FORMATS);
  const runs = [readRunInfo(opts.runA), readRunInfo(opts.runB)] as const;
  const targetName = opts.target ?? runs[0].meta?.target ?? runs[1].meta?.target;
  const target = targetName ? (setup.targets.get(targetName) ?? recordedTarget(targetName, [runs[0].meta, runs[1].meta])) : undefined;
  if (!target) throw new UserError(`cannot tell which target ${opts.runA} holds (no meta.json); give it with --target`);

  const [a, b] = await Promise.all([opts.runA, opts.runB].map(async (dir) => (await readResults(ctx, target, [dir])).columns));
  const recordsA = selectTarget(a!, target.name);
  const recordsB = selectTarget(b!, target.name);
  for (const [dir, recs] of [
    [opts.runA, recordsA],
    [opts.runB, recordsB],
  ] as const) {
    if (!recs.length) throw new UserError(`no results of target '${target.name}' in ${dir}`);
  }
  const known = knownFields(target, recordsA, recordsB);
  const groupby = opts.groupby ?? target.aggregationField;
  if (!known.has(groupby)) throw unknownName('field', groupby, known.keys());
  const filters = parseFilters(opts.filter ?? [], known);
  const specs = parseFieldSpecs(opts.field?.length ? opts.field : defaultFields([recordsA, recordsB], true), known, true);

  const warnings: string[] = [];
  const pair = pairRuns(applyFilters(recordsA, filters), applyFilters(recordsB, filters), groupby, opts.instances, warnings);
  const higher = new Set(opts.higherIsBetter ?? [...known].filter(([, d]) => /per second/.test(d)).map(([k]) => k));
  const table = compareTable(pair, specs, {
    thresholdPercent: opts.threshold ?? 1,
    higherIsBetter: higher,
    ci: opts.ci,
  });
  annotateUnits(table, known);
  const fields = measuredFields(specs);
  for (const [label, data] of [
    ['A', pair.a],
    ['B', pair.b],
  ] as const) {
    for (const line of checkGroups(data, fields).lines()) warnings.push(`run ${label}: ${line}`);
  }
  for (const d of metaDifferences(runs)) warnings.push(`runs differ in ${d.what}: ${d.values[0]} in A, ${d.values[1]} in B`);
  warnings.push(...loadWarnings(runs));
  table.notes.unshift(...runLines(runs));
  for (const w of warnings) {
    ctx.log.warning(w);
    table.notes.push(`warning: ${w}`);
  }

  const text = formatTable(table, format, opts.precision ?? 3);
  if (opts.html || opts.figures) {
    const built: BuiltReport = { table, known, runs: [...runs] };
    const { writeReportPublications } = await import('../report/publish.js');
    await writeReportPublications(ctx, built, {
      ...opts,
      title: `Comparison of two runs of ${target.name}`,
      intro: [...runLines(runs), `Grouped by ${groupby} (${pair.groups.length} in both runs); instances ${pair.instances.join(', ')}.`],
      tableHeading: 'Run B relative to run A (the same numbers as infra compare prints)',
      charts: compareCharts(pair, specs, { a: basename(runs[0].dir), b: basename(runs[1].dir) }),
    });
  }
  if (opts.outfile || !(opts.html || opts.figures)) await writeOutput(ctx, text, opts.outfile, 'comparison');
}

function runLines(runs: readonly RunInfo[]): string[] {
  return runs.map(
    (r, i) => `${i ? 'B' : 'A'}: ${r.dir} (commit ${shortCommit(r.meta)}${r.meta?.startedAt ? `, started ${r.meta.startedAt}` : ''})`,
  );
}

/** Groups both runs alike, keeping the instances and groups they share (and warning about the rest). */
function pairRuns(
  recordsA: RecordColumns,
  recordsB: RecordColumns,
  groupby: string,
  asked: string[] | undefined,
  warnings: string[],
): RunPair {
  const inA = distinctValues(recordsA, 'instance');
  const inB = distinctValues(recordsB, 'instance');
  for (const name of asked ?? []) {
    if (!inA.has(name) || !inB.has(name)) {
      const where = !inA.has(name) && !inB.has(name) ? 'either run' : !inA.has(name) ? 'run A' : 'run B';
      throw new UserError(
        `instance '${name}' has no results in ${where}; instances in both: ${[...inA].filter((i) => inB.has(i)).join(', ')}`,
      );
    }
  }
  const both = [...inA].filter((i) => inB.has(i)).sort(naturalCompare);
  if (!both.length) throw new UserError(`the runs have no instance in common (A: ${[...inA].join(', ')}; B: ${[...inB].join(', ')})`);
  const instances = asked?.length ? [...new Set(asked)] : both;
  if (!asked?.length) {
    const alone = [...inA, ...inB].filter((i) => !both.includes(i));
    if (alone.length) warnings.push(`instances in only one run, not compared: ${[...new Set(alone)].join(', ')}`);
  }
  const a = groupColumns(recordsA, groupby, instances);
  const b = groupColumns(recordsB, groupby, instances);
  const groups = a.groups.filter((g) => b.cells.has(g));
  const onlyA = a.groups.filter((g) => !b.cells.has(g));
  const onlyB = b.groups.filter((g) => !a.cells.has(g));
  if (onlyA.length) warnings.push(`only in run A, not compared: ${onlyA.join(', ')}`);
  if (onlyB.length) warnings.push(`only in run B, not compared: ${onlyB.join(', ')}`);
  return { a, b, groups, instances, groupby };
}
