import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Context, makePaths } from '../src/core/context.js';
import { Logger } from '../src/core/log.js';
import { Target } from '../src/core/target.js';
import { cellOf, type RecordColumns } from '../src/results/columns.js';
import type { ExecutionRecord, RunMeta } from '../src/results/schema.js';
import { runMeta } from './run-fixtures.js';

/** A target whose results are written by the tests in the real run directory layout. */
export class Toy extends Target {
  name = 'toy';
  isFetched() {
    return true;
  }
  fetch() {}
  build() {}
  run() {}
}

export function quietContext(root: string): { ctx: Context; log: string[] } {
  const log: string[] = [];
  const stream = { isTTY: false, write: (s: string) => (log.push(s), true) } as unknown as NodeJS.WriteStream;
  return { ctx: new Context(makePaths(root, join(root, 'setup.ts'), 'test'), new Logger('info', undefined, stream)), log };
}

/** Deterministic small noise so runs look measured but tests are stable. */
const jitter = (i: number) => [0, 0.004, -0.003, 0.002, -0.001, 0.003][i % 6]!;

/** Runtime factor of each instance per benchmark relative to `clang`. */
export const FACTORS: Record<string, Record<string, number>> = {
  bzip2: { clang: 1, asan: 1.5, ubsan: 1.05 },
  lua: { clang: 1, asan: 1.2, ubsan: 1.001 },
  sqlite: { clang: 1, asan: 1.1, ubsan: 1.05 },
};
const BASE: Record<string, number> = { bzip2: 1, lua: 2, sqlite: 4 };

/** Three benchmarks, three instances, `iterations` executions each; `slower` scales every runtime. */
export function toyRecords(iterations = 6, slower = 1, factors = FACTORS): ExecutionRecord[] {
  const out: ExecutionRecord[] = [];
  for (const [benchmark, perInstance] of Object.entries(factors)) {
    for (const [instance, factor] of Object.entries(perInstance)) {
      for (let i = 0; i < iterations; i++) {
        out.push({
          schema: 1,
          target: 'toy',
          instance,
          benchmark,
          iteration: i,
          host: 'bench-host',
          status: 'ok',
          exitCode: 0,
          signal: null,
          start: '2026-01-01T00:00:00.000Z',
          fields: {
            runtime: BASE[benchmark]! * factor * slower * (1 + jitter(i + instance.length)),
            maxrss: (instance === 'asan' ? 3000 : 1000) + i,
          },
          stdout: `logs/toy/${instance}/${benchmark}.${i}.stdout`,
          stderr: '',
        });
      }
    }
  }
  return out;
}

/** Writes a run directory (records.jsonl and meta.json) as `infra run` lays it out. */
export function writeToyRun(dir: string, records: ExecutionRecord[], change: (meta: RunMeta) => void = () => {}): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'records.jsonl'), records.map((r) => JSON.stringify(r) + '\n').join(''));
  const meta = runMeta(dir);
  meta.target = 'toy';
  meta.argv = ['run', 'toy', 'clang', 'asan', 'ubsan', '-i', '6'];
  meta.project = { gitCommit: '0123456789abcdef0123456789abcdef01234567', gitDirty: false };
  meta.host = {
    ...meta.host,
    hostname: 'bench-host',
    cpuModel: 'Example CPU @ 3.0GHz',
    kernel: '6.1.0-test',
    thp: 'madvise',
    aslr: '2',
    governor: 'performance',
  };
  meta.instances = [
    { name: 'clang', cc: 'clang', cflags: ['-O2'] },
    { name: 'asan', cc: 'clang', cflags: ['-O2', '-fsanitize=address'] },
    { name: 'ubsan', cc: 'clang', cflags: ['-O2', '-fsanitize=undefined'] },
  ];
  meta.finishedAt = meta.startedAt;
  change(meta);
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(meta, null, 2));
  return dir;
}

/**
 * A project whose two "benchmarks" sleep: instance `slow` sleeps `slowFactor` times as long
 * as `fast`, so a real run has known ratios.
 */
export const napsProject = (slowFactor = 3) => String.raw`
import { Setup, Target, Instance, type Context, type Runner } from 'instrumentation-infra';

class Naps extends Target {
  name = 'naps';
  isFetched() { return true; }
  fetch() {}
  build() {}
  run(ctx: Context, _instance: Instance, runner: Runner) {
    for (const [benchmark, seconds] of [['short', 0.03], ['long', 0.06]] as const) {
      runner.submit(ctx, { benchmark, argv: ['sleep', String(seconds * Number(ctx.extra.factor ?? 1))] });
    }
  }
}
class Speed extends Instance {
  constructor(readonly name: string, private factor: number) { super(); }
  override configure(ctx: Context) { ctx.extra.factor = this.factor; }
}
const setup = new Setup(import.meta.url);
setup.addTarget(new Naps());
setup.addInstance(new Speed('fast', 1));
setup.addInstance(new Speed('slow', ${slowFactor}));
await setup.main();
`;

/** The records as the columns hold them: every key and field of every row. */
export function rowsOf(c: RecordColumns): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let row = 0; row < c.length; row++) {
    const r: Record<string, unknown> = {};
    for (const [k, col] of c.keys) if (cellOf(col, row) !== undefined) r[k] = cellOf(col, row);
    const fields: Record<string, unknown> = {};
    for (const [k, col] of c.fields) if (cellOf(col, row) !== undefined) fields[k] = cellOf(col, row);
    out.push({ ...r, fields });
  }
  return out;
}

/** The same for records as objects (null keys are absent in columns). */
export function plain(records: ExecutionRecord[]): Array<Record<string, unknown>> {
  return records.map((r) => {
    const out: Record<string, unknown> = {};
    for (const k of ['target', 'instance', 'benchmark', 'iteration', 'host', 'status', 'exitCode', 'signal', 'reason'] as const)
      if (r[k] !== undefined && r[k] !== null) out[k] = r[k];
    return { ...out, fields: r.fields };
  });
}
