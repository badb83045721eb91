// A results directory copied to another machine is reported and compared there: without the
// project's setup script, the field descriptions and units come from the run's meta.json.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeProject, runInfra } from './helpers.js';

const project = String.raw`
import { Setup, Target, Instance, type Context, type Runner } from 'instrumentation-infra';

class Counts extends Target {
  name = 'counts';
  override aggregationField = 'workload';
  override reportableFields() {
    return { work: 'time the program spent on its own work, ms' };
  }
  isFetched() { return true; }
  fetch() {}
  build() {}
  run(ctx: Context, _instance: Instance, runner: Runner) {
    const factor = Number(ctx.extra.factor ?? 1);
    for (const [benchmark, workload, n] of [['tiny', 'small', 3], ['wide', 'large', 9]] as const) {
      const work = n * factor;
      runner.submit(ctx, {
        benchmark,
        fields: { workload },
        argv: ['sh', '-c', "sleep 0.02; printf '[setup-report] begin counts\\n[setup-report] work: " + work + "\\n[setup-report] end counts\\n' >&2"],
      });
    }
  }
}
class Factor extends Instance {
  constructor(readonly name: string, private factor: number) { super(); }
  override configure(ctx: Context) { ctx.extra.factor = this.factor; }
}
const setup = new Setup(import.meta.url);
setup.addTarget(new Counts());
setup.addInstance(new Factor('plain', 1));
setup.addInstance(new Factor('heavy', 2));
await setup.main();
`;

test('report and compare a copied results directory outside the project: same numbers, units and grouping', () => {
  const dir = makeProject({ 'setup.ts': project }, 'infra-noproject-');
  const ran = runInfra(dir, ['run', 'counts', 'plain', 'heavy', '-i', '3']);
  assert.equal(ran.code, 0, ran.stderr);
  const meta = JSON.parse(readFileSync(join(dir, 'results', 'last', 'meta.json'), 'utf8'));
  assert.equal(meta.fields.work, 'time the program spent on its own work, ms');
  assert.equal(meta.aggregationField, 'workload');

  const elsewhere = mkdtempSync(join(tmpdir(), 'infra-laptop-'));
  const copy = join(elsewhere, 'copied-run');
  cpSync(realpathSync(join(dir, 'results', 'last')), copy, { recursive: true });

  const reportArgs = (where: string) => ['report', 'counts', where, '--overhead', 'plain', '-f', 'work:median', 'runtime:median'];
  for (const format of [['--table', 'csv'], ['--table', 'json'], []]) {
    const inside = runInfra(dir, [...reportArgs('results/last'), ...format]);
    assert.equal(inside.code, 0, inside.stderr);
    const outside = runInfra(elsewhere, [...reportArgs('copied-run'), ...format]);
    assert.equal(outside.code, 0, outside.stderr);
    // warnings name the run as it was given (results/last here, copied-run there)
    const named = (out: string, as: string) => out.replaceAll(as, 'RUN');
    assert.equal(
      named(outside.stdout, 'copied-run'),
      named(inside.stdout, 'results/last'),
      `the same report (${format.join(' ') || 'fancy'}) outside the project`,
    );
  }
  const table = runInfra(elsewhere, reportArgs('copied-run')).stdout;
  assert.match(table, /\blarge\b/, "grouped on the target's own field, as in the project");
  assert.match(table, /\bsmall\b/);
  const json = JSON.parse(runInfra(elsewhere, [...reportArgs('copied-run'), '--table', 'json']).stdout);
  const unit = (key: string) => (json.columns as Array<{ key: string; unit?: string }>).find((c) => c.key === key)?.unit;
  assert.equal(unit('plain.work.median'), 'ms', 'the unit the run stored with the field');
  assert.equal(unit('plain.runtime.median'), 'seconds');
  const csv = runInfra(elsewhere, [...reportArgs('copied-run'), '--table', 'csv']).stdout;
  const [header, ...rows] = csv
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  const col = header!.indexOf('heavy.work.median');
  assert.ok(col > 0, header!.join(','));
  assert.deepEqual(
    rows.filter((r) => r[0] !== 'geomean').map((r) => [r[0], Number(r[col])]),
    [
      ['large', 2],
      ['small', 2],
    ],
  );

  const help = runInfra(elsewhere, ['report', 'counts', 'copied-run', '--help-fields']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /work\s+time the program spent on its own work, ms/);

  const compared = runInfra(elsewhere, ['compare', 'copied-run', 'copied-run', '-f', 'work:median', '--table', 'csv']);
  assert.equal(compared.code, 0, compared.stderr);
  assert.match(compared.stdout, /^workload,/);

  const unknown = runInfra(elsewhere, ['report', 'nosuch', 'copied-run']);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /no results of target 'nosuch'.*targets present: counts/);
});
