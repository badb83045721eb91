// The page of a real Juliet run (the small tree in Juliet 1.3's layout, test/fixtures/juliet,
// built and run with gcc and clang-22 with ASan): detection and false-positive rates per CWE
// and instance, the same numbers as the suite's own table.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, makeProject, runInfra } from './helpers.ts';
import { countMarks, openInChromium } from './browser.ts';

const shots = process.env.INFRA_SCREENSHOTS ?? join(tmpdir(), 'infra-report-screenshots');
const SETUP = String.raw`
import { Setup, Gcc, ASan, LLVM, Juliet } from 'instrumentation-infra';

const setup = new Setup(import.meta.url);
setup.addTarget(new Juliet({ source: 'juliet' }));
setup.addInstance(new Gcc({ optlevel: 0 }));
setup.addInstance(new ASan(LLVM.installed({ version: '22' })));
await setup.main();
`;
const SELECT = ['--variants', '01', '54'];
let dir = '';

before(() => {
  dir = makeProject({ 'setup.ts': SETUP }, 'infra-report-juliet-');
  cpSync(join(REPO, 'test/fixtures/juliet'), join(dir, 'juliet'), { recursive: true });
  const r = runInfra(dir, ['run', 'juliet', 'gcc-O0', 'asan', ...SELECT, '--build', '--parallel', 'proc']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('--html and --figures: detection and false-positive rates per CWE and instance, as in the table', async () => {
  const csv = runInfra(dir, ['report', 'juliet', 'results/last', '--table', 'csv']);
  assert.equal(csv.code, 0, csv.stderr);
  const [header, ...rows] = csv.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  const col = (name: string) => header!.indexOf(name);
  // the table's counts as the chart labels them: stopped/ran, for every CWE whose programs ran
  const expected = { detection: [] as string[], falsePositive: [] as string[] };
  for (const row of rows) {
    const n = (c: string) => Number(row[col(c)]);
    const bad = n('bad.detected') + n('bad.crashed') + n('bad.hung') + n('bad.missed');
    const good = Number(row[col('built')]);
    if (bad) expected.detection.push(`${n('bad.detected')}/${bad}`);
    if (good) expected.falsePositive.push(`${n('good.false-pos')}/${good}`);
  }
  assert.ok(expected.detection.length >= 10, csv.stdout);
  assert.ok(expected.detection.some((l) => l.startsWith('0/')) && expected.detection.some((l) => /^(\d+)\/\1$/.test(l)));

  const html = join(dir, 'juliet.html');
  const figures = join(dir, 'figures');
  const r = runInfra(dir, ['report', 'juliet', 'results/last', '--html', html, '--figures', figures]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(figures, 'detection-cwe.svg')));
  const opened = await openInChromium(html);
  try {
    assert.deepEqual(opened.errors, []);
    assert.deepEqual(opened.requests, [`file://${html}`]);
    const [marks] = await countMarks(opened.page, ['detection_bars', 'false_positive_bars']);
    assert.deepEqual(marks, { detection_bars: expected.detection.length, false_positive_bars: expected.falsePositive.length });
    const labels = (layer: string) => opened.page.$$eval(`g.${layer}_marks > text`, (ts) => ts.map((t) => t.textContent ?? '').sort());
    assert.deepEqual(await labels('detection_bars_labels'), expected.detection.sort());
    assert.deepEqual(await labels('false_positive_bars_labels'), expected.falsePositive.sort());
    // the suite's own table is on the page too
    assert.ok((await opened.page.content()).includes('detected%'));
    mkdirSync(shots, { recursive: true });
    await opened.page.screenshot({ path: join(shots, 'juliet.png'), fullPage: true });
    const [chart] = await opened.page.$$('figure svg');
    await chart!.screenshot({ path: join(shots, 'juliet-detection.png') });
  } finally {
    await opened.close();
  }
});
