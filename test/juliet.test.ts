// The juliet target against a small tree in Juliet's layout (test/fixtures/juliet): good and bad
// programs per test case, ASan detecting the bad ones, plain gcc passing every good one.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, makeProject, runInfra } from './helpers.ts';
import { julietPassed } from '../src/targets/juliet/juliet.ts';
import { resolveCwes } from '../src/targets/juliet/testcases.ts';

const SETUP = String.raw`
import { Setup, Gcc, ASan, LLVM, Juliet } from 'instrumentation-infra';

const setup = new Setup(import.meta.url);
setup.addTarget(new Juliet({ source: 'juliet' }));
setup.addInstance(new Gcc({ optlevel: 0 }));
setup.addInstance(new ASan(LLVM.installed({ version: '22' })));
await setup.main();
`;

const CASES = [
  'CWE121_Stack_Based_Buffer_Overflow__CWE129_fgets_01',
  'CWE121_Stack_Based_Buffer_Overflow__CWE805_char_declare_memcpy_01',
  'CWE122_Heap_Based_Buffer_Overflow__c_CWE805_char_memcpy_01',
  'CWE416_Use_After_Free__malloc_free_char_01',
  'CWE476_NULL_Pointer_Dereference__int_01',
];
let dir = '';
let build = { code: 0 as number | null, stdout: '', stderr: '' };

function records(): any[] {
  return readFileSync(join(dir, 'results/last/records.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

before(() => {
  dir = makeProject({ 'setup.ts': SETUP }, 'infra-juliet-');
  cpSync(join(REPO, 'test/fixtures/juliet'), join(dir, 'juliet'), { recursive: true });
  build = runInfra(dir, ['build', 'juliet', 'gcc-O0', 'asan', '--cwe', '121', 'CWE122', 'uaf', 'null-deref']);
  assert.equal(build.code, 0, build.stdout + build.stderr);
});

test('good and bad programs are built per test case; wchar_t-only and socket cases are skipped', () => {
  const out = build.stdout + build.stderr;
  assert.match(out, /skipping 2 test case\(s\) that cannot run here \(.*\)/);
  assert.match(out, /1 wchar_t only/);
  assert.match(out, /1 needs a socket peer/);
  const makefile = readFileSync(join(dir, 'build/targets/juliet/asan/Makefile'), 'utf8');
  assert.match(makefile, /-fsanitize=address.*-DINCLUDEMAIN -DOMITBAD .*-o \$@ \S*CWE416_Use_After_Free__malloc_free_char_01\.c/);
  assert.match(makefile, /-DINCLUDEMAIN -DOMITGOOD /);
  assert.doesNotMatch(makefile, /wchar_t|connect_socket|_02\.c/);
});

test('ASan detects the bad overflows and the use after free; gcc -O0 passes every good case', () => {
  const r = runInfra(dir, ['run', 'juliet', 'gcc-O0', 'asan', '--cwe', '121', '122', '416', '476', '--parallel', 'proc']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const recs = records();
  assert.equal(recs.length, CASES.length * 2 * 2);
  const get = (inst: string, tc: string, kind: string) =>
    recs.find((x) => x.instance === inst && x.fields.testcase === tc && x.fields.kind === kind);
  for (const rec of recs) assert.equal(rec.status, 'ok', JSON.stringify(rec));
  for (const tc of CASES) {
    for (const inst of ['gcc-O0', 'asan']) assert.equal(get(inst, tc, 'good').fields.passed, true, `${inst} ${tc} good`);
  }
  // the memory errors ASan is made for: both stack overflows, the heap overflow, the use after free
  for (const tc of CASES.slice(0, 4)) {
    const bad = get('asan', tc, 'bad');
    assert.equal(bad.fields.passed, true, `asan ${tc} bad: ${JSON.stringify(bad.fields)}`);
  }
  // ASan reports and exits 1; an unprotected NULL dereference dies of SIGSEGV (128+11)
  assert.equal(get('asan', CASES[3]!, 'bad').fields.exitcode, 1);
  assert.match(
    readFileSync(join(dir, 'results/last', get('asan', CASES[3]!, 'bad').stderr), 'utf8'),
    /AddressSanitizer: heap-use-after-free/,
  );
  assert.equal(get('gcc-O0', CASES[4]!, 'bad').fields.exitcode, 139);
  // without a defense the index overflow and the use after free go unnoticed
  assert.equal(get('gcc-O0', CASES[0]!, 'bad').fields.passed, false);
  assert.equal(get('gcc-O0', CASES[3]!, 'bad').fields.passed, false);

  const report = runInfra(dir, [
    'report',
    'juliet',
    'results/last',
    '-f',
    'passed:sum',
    'passed:count',
    '--groupby',
    'cwe',
    '--filter',
    'kind=bad',
    '--table',
    'csv',
  ]);
  assert.equal(report.code, 0, report.stderr);
  const lines = report.stdout.trim().split('\n');
  const row = (cwe: string) => lines.find((l) => l.startsWith(cwe))?.split(',');
  // columns: cwe, then per instance passed:sum and passed:count
  assert.ok(row('CWE121') && row('CWE416') && row('CWE476'), report.stdout);
  assert.match(report.stdout, /CWE416.*\b1\b/);
});

test('--variants picks other flow variants', () => {
  const b = runInfra(dir, ['build', 'juliet', 'asan', '--cwe', 'use-after-free', '--variants', '02']);
  assert.equal(b.code, 0, b.stderr);
  const r = runInfra(dir, ['run', 'juliet', 'asan', '--cwe', 'use-after-free', '--variants', '02']);
  assert.equal(r.code, 0, r.stderr);
  const recs = records();
  assert.deepEqual(recs.map((x) => x.benchmark).sort(), [
    'CWE416_Use_After_Free__malloc_free_char_02.bad',
    'CWE416_Use_After_Free__malloc_free_char_02.good',
  ]);
  assert.ok(recs.every((x) => x.fields.passed === true && x.fields.variant === '02'));
});

test('an unknown CWE names the accepted forms and the CWEs present', () => {
  const r = runInfra(dir, ['build', 'juliet', 'asan', '--cwe', 'overflowz']);
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /unknown CWE 'overflowz'; give a number \(416\), CWE416 or an alias: .*uaf.*; CWEs in this copy of Juliet: 121, 122, 416, 476/,
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('pass criteria: good exits 0; bad is stopped (or exits with the mitigation code when given)', () => {
  assert.equal(julietPassed('good', 0, false), true);
  assert.equal(julietPassed('good', 1, false), false);
  assert.equal(julietPassed('bad', 0, false), false);
  assert.equal(julietPassed('bad', 139, false), true);
  assert.equal(julietPassed('bad', 124, true), false);
  assert.equal(julietPassed('bad', 1, false, 99), false);
  assert.equal(julietPassed('bad', 99, false, 99), true);
  assert.deepEqual(resolveCwes(['416', 'CWE121', 'spatial'], [121, 122, 416, 476]), [121, 122, 416]);
});

test('a build whose flags changed since is not run: the stale programs are reported', () => {
  const setup = SETUP.replace(
    'setup.addInstance(new Gcc({ optlevel: 0 }));',
    "setup.addInstance(new Gcc({ optlevel: 0 }));\nclass Flagged extends Gcc {\n  override readonly name = 'flagged';\n  override configure(ctx: any) { super.configure(ctx); if (process.env.EXTRA_FLAG) ctx.addCFlag(process.env.EXTRA_FLAG); }\n}\nsetup.addInstance(new Flagged({ optlevel: 0 }));",
  );
  const d = makeProject({ 'setup.ts': setup }, 'infra-juliet-stale-');
  cpSync(join(REPO, 'test/fixtures/juliet'), join(d, 'juliet'), { recursive: true });
  assert.equal(runInfra(d, ['build', 'juliet', 'flagged', '--cwe', '416']).code, 0);
  const stale = runInfra(d, ['run', 'juliet', 'flagged', '--cwe', '416'], { env: { EXTRA_FLAG: '-DSOMETHING' } });
  assert.notEqual(stale.code, 0);
  assert.match(stale.stderr, /juliet: the build for flagged is out of date/);
  const ok = runInfra(d, ['run', 'juliet', 'flagged', '--cwe', '416']);
  assert.equal(ok.code, 0, ok.stderr);
});
