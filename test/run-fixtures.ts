import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Context, makePaths } from '../src/core/context.js';
import { Logger } from '../src/core/log.js';
import type { BenchmarkRun, FieldValue, Runner } from '../src/core/runner.js';
import { Target } from '../src/core/target.js';
import type { RunMeta } from '../src/results/schema.js';
import { resolveRunOptions } from '../src/run/settings.js';

/** Shared by the runner and scheduler tests: a context, a run's meta.json, a target. */

export const quiet = () => new Logger('error');

export function makeContext(root: string, log = quiet()): Context {
  const ctx = new Context(makePaths(root, join(root, 'setup.ts'), 'test'), log);
  ctx.instanceName = 'plain';
  return ctx;
}

export function runMeta(root: string): RunMeta {
  return {
    schema: 1,
    tool: { name: 'instrumentation-infra', version: '0.0.0' },
    argv: ['run', 'demo', 'plain'],
    cwd: root,
    startedAt: new Date().toISOString(),
    target: 'demo',
    project: { gitCommit: null, gitDirty: null },
    host: { hostname: 'h', cpuModel: 'c', cores: 2, memoryBytes: 1, kernel: 'k', thp: null, aslr: null, governor: null },
    instances: [{ name: 'plain' }],
    settings: { ...resolveRunOptions({ iterations: 3, parallel: 'proc', parallelmax: 2 }), instances: ['plain'], args: {} },
  };
}

/** A target that submits the given benchmarks; `score: N` in the output becomes a field. */
export class DemoTarget extends Target {
  readonly name = 'demo';
  constructor(private readonly runs: BenchmarkRun[]) {
    super();
  }
  isFetched() {
    return true;
  }
  fetch() {}
  build() {}
  run(ctx: Context, _instance: unknown, runner: Runner) {
    for (const r of this.runs) runner.submit(ctx, r);
  }
  override parseOutfile(_ctx: Context, outfile: string): Array<Record<string, FieldValue>> {
    const m = /score: (\d+)/.exec(readFileSync(outfile, 'utf8'));
    return m ? [{ score: Number(m[1]) }] : [];
  }
}
