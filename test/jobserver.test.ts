// Parallel builds share one budget of job slots through a GNU make jobserver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, runInfra } from './helpers.ts';

const SETUP = String.raw`
import { join } from 'node:path';
import { Setup, Target, Instance, run, makeJobs, type Context, type Runner } from 'instrumentation-infra';
class Busy extends Target {
  readonly name = 'busy';
  isFetched() { return true; } fetch() {}
  async build(ctx: Context, instance: Instance) {
    await run(ctx, ['make', '-s', ...makeJobs(ctx), 'LOG=' + join(import.meta.dirname, 'spans.txt'), 'TAG=' + instance.name], { cwd: import.meta.dirname });
  }
  run(_c: Context, _i: Instance, _r: Runner) {}
}
class I extends Instance { constructor(readonly name: string) { super(); } }
const setup = new Setup(import.meta.url);
setup.addTarget(new Busy());
setup.addInstance(new I('one'));
setup.addInstance(new I('two'));
await setup.main();
`;

// six half-second jobs per build, each logging when it starts and ends
const MAKEFILE = 'all: j1 j2 j3 j4 j5 j6\nj%:\n\t@echo "+ $$(date +%s.%N)" >> $(LOG); sleep 0.5; echo "- $$(date +%s.%N)" >> $(LOG)\n';

function peakConcurrency(file: string): number {
  const events = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => ({ d: l[0] === '+' ? 1 : -1, t: Number(l.slice(2)) }));
  events.sort((a, b) => a.t - b.t || a.d - b.d);
  let cur = 0;
  let peak = 0;
  for (const e of events) peak = Math.max(peak, (cur += e.d));
  return peak;
}

test('two parallel builds with -j 2 share 2 slots (plus one implicit slot per make)', () => {
  const dir = makeProject({ 'setup.ts': SETUP, Makefile: MAKEFILE });
  const r = runInfra(dir, ['-j', '2', 'build', 'busy', 'one', 'two', '--parallel', 'proc', '--parallelmax', '2']);
  assert.equal(r.code, 0, r.stderr);
  const peak = peakConcurrency(join(dir, 'spans.txt'));
  // without the jobserver each make would run 2 jobs: 4 at once
  assert.ok(peak <= 3, `peak concurrency ${peak}`);
  assert.ok(peak >= 2, `peak concurrency ${peak}: the builds ran in parallel`);
});

test('a single build gets the whole budget of -j slots', () => {
  const dir = makeProject({ 'setup.ts': SETUP, Makefile: MAKEFILE });
  const r = runInfra(dir, ['-j', '3', 'build', 'busy', 'one']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(peakConcurrency(join(dir, 'spans.txt')), 3);
});
