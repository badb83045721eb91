// The juliet target against a small tree in Juliet 1.3's layout and conventions
// (test/fixtures/juliet: Juliet itself cannot be downloaded here). Real clang-22 with ASan and
// gcc build and run it: class-based and multi-file cases, -O0 by default, how each program
// ended, leak detection for CWE401, the families left out by default, and the summary report.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, makeProject, runInfra } from './helpers.ts';
import { julietPassed } from '../src/targets/juliet/juliet.ts';
import { classifyEnding, verdictOf } from '../src/targets/juliet/outcome.ts';
import { discoverTestCases, resolveCwes } from '../src/targets/juliet/testcases.ts';

const SETUP = String.raw`
import { Setup, Gcc, ASan, LLVM, Juliet } from 'instrumentation-infra';

const setup = new Setup(import.meta.url);
setup.addTarget(new Juliet({ source: 'juliet' }));
setup.addInstance(new Gcc({ optlevel: 0 }));
setup.addInstance(new ASan(LLVM.installed({ version: '22' })));
await setup.main();
`;
const FIXTURE = join(REPO, 'test/fixtures/juliet');
const SELECT = ['--variants', '01', '54'];

let dir = '';
let build = { code: 0 as number | null, stdout: '', stderr: '' };

function records(d = dir): any[] {
  return readFileSync(join(d, 'results/last/records.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
const find = (recs: any[], inst: string, tc: string, kind: string) =>
  recs.find((x) => x.instance === inst && x.fields.testcase === tc && x.fields.kind === kind);

function project(prefix: string): string {
  const d = makeProject({ 'setup.ts': SETUP }, prefix);
  cpSync(FIXTURE, join(d, 'juliet'), { recursive: true });
  return d;
}

before(() => {
  dir = project('infra-juliet-');
  build = runInfra(dir, ['build', 'juliet', 'gcc-O0', 'asan', ...SELECT]);
  assert.equal(build.code, 0, build.stdout + build.stderr);
});

test('each test case file is compiled once; class-based and multi-file cases link the right files; -O0 by default', () => {
  const out = build.stdout + build.stderr;
  assert.match(out, /leaving out 4 test case\(s\) \(1 socket, 1 nondeterministic, 1 not-a-bug-here, 1 input-dependent\)/);
  assert.match(out, /building 10 juliet test cases \(good and bad\) for asan at -O0/);
  const makefile = readFileSync(join(dir, 'build/targets/juliet/asan/Makefile'), 'utf8');
  assert.doesNotMatch(makefile, /OMITGOOD|OMITBAD|INCLUDEMAIN|-O2/);
  // the instance's flags stay, its -O2 becomes -O0
  assert.match(makefile, /-fsanitize=address .*-O0 -I \S+ -c -o \$@ \$</);
  for (const f of ['CWE416_Use_After_Free__malloc_free_char_01.c', 'CWE415_Double_Free__no_copy_const_01_bad.cpp']) {
    assert.equal(makefile.split('\n').filter((l) => l.endsWith(`/${f}`)).length, 1, f);
  }
  const link = (kind: string, name: string) => makefile.split('\n').find((l) => l.startsWith(`${kind}/${name}:`));
  // programs are only linked: the main, compiled once, calls the entry the link names
  const lines = makefile.split('\n');
  const recipe = (kind: string, name: string) => lines[lines.indexOf(link(kind, name)!) + 1]!;
  const cls = 'CWE415_Double_Free__no_copy_const_01';
  assert.match(link('good', cls)!, /: obj\/juliet-main-good\.o obj\/CWE415_Double_Free__no_copy_const_01_good1\.o support\/io\.o$/);
  assert.match(link('bad', cls)!, /: obj\/juliet-main-bad\.o obj\/CWE415_Double_Free__no_copy_const_01_bad\.o support\/io\.o$/);
  assert.match(recipe('bad', cls), /^\t\S*clang\+\+ .*--defsym=juliet_entry=_ZN36CWE415_Double_Free__no_copy_const_013badEv/);
  const c = 'CWE416_Use_After_Free__malloc_free_char_01';
  assert.match(recipe('good', c), /--defsym=juliet_entry=CWE416_Use_After_Free__malloc_free_char_01_good /);
  assert.doesNotMatch(recipe('good', c), / -c /);
  assert.match(link('bad', 'CWE122_Heap_Based_Buffer_Overflow__c_CWE193_char_cpy_54')!, /_54a\.o .*_54b\.o .*_54c\.o .*_54d\.o .*_54e\.o/);
  // wchar_t cases run by default; sockets cannot
  assert.match(makefile, /good\/CWE121_Stack_Based_Buffer_Overflow__CWE805_wchar_t_declare_memcpy_01:/);
  assert.doesNotMatch(makefile, /connect_socket|_rand_01|sizeof_double|CWE124/);
});

test('how each program ended: detected by ASan, crashed anyway, missed; leaks found with leak detection on', () => {
  const r = runInfra(dir, ['run', 'juliet', 'gcc-O0', 'asan', ...SELECT, '--parallel', 'proc']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /asan cannot detect CWE762 with alloc_dealloc_mismatch=0/);
  const recs = records();
  assert.equal(recs.length, 10 * 2 * 2);
  for (const rec of recs) assert.equal(rec.status, 'ok', JSON.stringify(rec));
  for (const rec of recs.filter((x) => x.fields.kind === 'good'))
    assert.equal(rec.fields.verdict, 'clean', `${rec.instance} ${rec.benchmark}`);
  const ended = (inst: string, tc: string) => {
    const f = find(recs, inst, tc, 'bad').fields;
    return [f.verdict, f.ending, f.ending === 'signal' ? f.signal : f.error].join(' ');
  };
  const expected: Array<[string, string, string]> = [
    // without a defense the overflow smashes the stack: the baseline's own failure
    [
      'CWE121_Stack_Based_Buffer_Overflow__CWE805_char_declare_memcpy_01',
      'detected sanitizer stack-buffer-overflow',
      'crashed signal SIGSEGV',
    ],
    ['CWE121_Stack_Based_Buffer_Overflow__CWE805_wchar_t_declare_memcpy_01', 'detected sanitizer memcpy-param-overlap', ''],
    ['CWE122_Heap_Based_Buffer_Overflow__c_CWE193_char_cpy_54', 'detected sanitizer heap-buffer-overflow', 'missed clean '],
    ['CWE401_Memory_Leak__char_malloc_01', 'detected sanitizer memory-leak', 'missed clean '],
    // glibc notices the double free and aborts: a crash, not a detection
    ['CWE415_Double_Free__no_copy_const_01', 'detected sanitizer double-free', 'crashed signal SIGABRT'],
    ['CWE416_Use_After_Free__malloc_free_char_01', 'detected sanitizer heap-use-after-free', 'missed clean '],
    // ASan's handler reports the SEGV and exits 1: still a crash
    ['CWE476_NULL_Pointer_Dereference__int_01', 'crashed signal SIGSEGV', 'crashed signal SIGSEGV'],
    ['CWE762_Mismatched_Memory_Management_Routines__delete_array_char_malloc_01', 'missed clean ', 'missed clean '],
  ];
  for (const [tc, asan, gcc] of expected) {
    assert.equal(ended('asan', tc), asan, `asan ${tc}`);
    if (gcc) assert.equal(ended('gcc-O0', tc), gcc, `gcc-O0 ${tc}`);
  }
  assert.equal(find(recs, 'asan', 'CWE476_NULL_Pointer_Dereference__int_01', 'bad').fields.exitcode, 1);
  assert.match(find(recs, 'asan', 'CWE401_Memory_Leak__char_malloc_01', 'bad').fields.sanitizerOptions, /ASAN_OPTIONS=.*detect_leaks=1/);
  assert.match(find(recs, 'asan', 'CWE416_Use_After_Free__malloc_free_char_01', 'bad').fields.sanitizerOptions, /detect_leaks=0/);
  assert.equal(find(recs, 'asan', 'CWE416_Use_After_Free__malloc_free_char_01', 'bad').fields.optlevel, '-O0');

  const report = runInfra(dir, ['report', 'juliet', 'results/last', '--table', 'csv']);
  assert.equal(report.code, 0, report.stderr);
  const lines = report.stdout.trim().split('\n');
  assert.equal(
    lines[0],
    'cwe,instance,opt,found,excluded.input,excluded.rand,excluded.abi,excluded.socket,built,' +
      'bad.detected,bad.crashed,bad.hung,bad.missed,bad.detected%,good.false-pos,good.failed',
  );
  const row = (cwe: string, inst: string) => lines.find((l) => l.startsWith(`${cwe},${inst},`));
  assert.equal(row('CWE121', 'asan'), 'CWE121,asan,-O0,5,0,1,0,1,3,3,0,0,0,100,0,0');
  assert.equal(row('CWE121', 'gcc-O0'), 'CWE121,gcc-O0,-O0,5,0,1,0,1,3,0,2,0,1,0,0,0');
  assert.equal(row('CWE415', 'gcc-O0'), 'CWE415,gcc-O0,-O0,1,0,0,0,0,1,0,1,0,0,0,0,0');
  assert.equal(row('CWE124', 'asan'), 'CWE124,asan,-O0,1,1,0,0,0,0,0,0,0,0,,0,0');
  const fancy = runInfra(dir, ['report', 'juliet', 'results/last']).stdout;
  assert.match(fancy, /CWE762: asan cannot detect it with alloc_dealloc_mismatch=0/);
  assert.match(fancy, /excluded rand \(nondeterministic\): srand\(time\(NULL\)\)/);
  // by flow variant
  const byVariant = runInfra(dir, ['report', 'juliet', 'results/last', '--groupby', 'variant', '--table', 'csv']).stdout.split('\n');
  assert.ok(
    byVariant.find((l) => l.startsWith('54,asan,-O0,1,0,0,0,0,1,1,0,0,0,100,')),
    byVariant.join('\n'),
  );
  // the generic report still works on the fields
  const generic = runInfra(dir, ['report', 'juliet', 'results/last', '-f', 'passed:sum', '--filter', 'kind=bad', '--table', 'csv']);
  assert.equal(generic.code, 0, generic.stderr);
  assert.match(generic.stdout, /^CWE416,1,0$/m);
});

test("the user's sanitizer options win over the instance's, and the record says which were in force", () => {
  const r = runInfra(dir, ['run', 'juliet', 'asan', '--cwe', '762', '401'], {
    env: { ASAN_OPTIONS: 'alloc_dealloc_mismatch=1:detect_leaks=0' },
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stderr, /cannot detect CWE762/);
  assert.match(r.stderr, /cannot detect CWE401 with detect_leaks=0/);
  const recs = records();
  const mm = find(recs, 'asan', 'CWE762_Mismatched_Memory_Management_Routines__delete_array_char_malloc_01', 'bad').fields;
  assert.deepEqual([mm.verdict, mm.error], ['detected', 'alloc-dealloc-mismatch']);
  assert.match(mm.sanitizerOptions, /alloc_dealloc_mismatch=1/);
  assert.equal(find(recs, 'asan', 'CWE401_Memory_Leak__char_malloc_01', 'bad').fields.verdict, 'missed');
  const meta = JSON.parse(readFileSync(join(dir, 'results/last/meta.json'), 'utf8'));
  assert.match(meta.instances[0].runenv.ASAN_OPTIONS, /alloc_dealloc_mismatch=1.*detect_leaks=0|detect_leaks=0.*alloc_dealloc_mismatch=1/);
});

test('families left out by default run when asked: rand cases several times, with a rate', () => {
  const args = [
    'juliet',
    'asan',
    '--cwe',
    '121',
    '124',
    '--include',
    'nondeterministic',
    'input-dependent',
    '--rand-runs',
    '4',
    '--skip-wchar',
  ];
  assert.equal(runInfra(dir, ['build', ...args]).code, 0);
  const r = runInfra(dir, ['run', ...args]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const recs = records();
  const rand = recs.filter((x) => x.fields.testcase === 'CWE121_Stack_Based_Buffer_Overflow__CWE129_rand_01' && x.fields.kind === 'bad');
  assert.equal(rand.length, 4);
  assert.ok(rand.every((x) => x.fields.family === 'nondeterministic' && ['detected', 'missed'].includes(x.fields.verdict)));
  // the fixed input (12) never gives the negative index the underwrite needs
  assert.equal(find(recs, 'asan', 'CWE124_Buffer_Underwrite__CWE839_fgets_01', 'bad').fields.verdict, 'missed');
  assert.ok(!recs.some((x) => /wchar_t/.test(x.fields.testcase)));
  const report = runInfra(dir, ['report', 'juliet', 'results/last', '--table', 'csv']).stdout;
  const detected = rand.filter((x) => x.fields.verdict === 'detected').length;
  const row = report
    .split('\n')
    .find((l) => l.startsWith('CWE121,asan'))!
    .split(',');
  // columns: found, excluded (socket, wchar_t), built, detected: 2 sure detections plus the rand case's share
  assert.deepEqual(row.slice(3, 7), ['5', '1', '1', '3']);
  assert.equal(Number(row[7]), 2 + detected / 4);
  assert.match(runInfra(dir, ['report', 'juliet', 'results/last']).stdout, /nondeterministic \(rand\) cases ran 4 times each/);
});

test("--optlevel instance keeps the instance's -O2, which removes the NULL dereference", () => {
  const d = project('infra-juliet-O2-');
  const args = ['juliet', 'asan', '--cwe', 'null-deref', '--optlevel', 'instance'];
  assert.equal(runInfra(d, ['build', ...args]).code, 0);
  const r = runInfra(d, ['run', ...args]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const bad = find(records(d), 'asan', 'CWE476_NULL_Pointer_Dereference__int_01', 'bad').fields;
  assert.deepEqual([bad.optlevel, bad.verdict], ['-O2', 'missed']);
  // a build at another level is not run with the default one
  const stale = runInfra(d, ['run', 'juliet', 'asan', '--cwe', 'null-deref']);
  assert.notEqual(stale.code, 0);
  assert.match(stale.stderr, /juliet: the build for asan is out of date/);
});

test('an unknown CWE names the accepted forms and the CWEs present', () => {
  const r = runInfra(dir, ['build', 'juliet', 'asan', '--cwe', 'overflowz']);
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /unknown CWE 'overflowz'; give a number \(416\), CWE416 or an alias: .*uaf.*; CWEs in this copy of Juliet: 121, 122, 124, 401, 415, 416, 476, 762/,
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('endings: sanitizer reports by kind, signals caught by a sanitizer, the mitigation code, hangs', () => {
  assert.deepEqual(classifyEnding(1, false, '==1==ERROR: AddressSanitizer: attempting double-free on 0x6 in thread T0:'), {
    ending: 'sanitizer',
    sanitizer: 'address',
    error: 'double-free',
  });
  assert.deepEqual(classifyEnding(1, false, '==1==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000000'), {
    ending: 'signal',
    sanitizer: 'address',
    error: 'SEGV',
    signal: 'SIGSEGV',
  });
  assert.equal(classifyEnding(1, false, '==7==ERROR: LeakSanitizer: detected memory leaks').error, 'memory-leak');
  assert.deepEqual(classifyEnding(1, false, "x.c:12:5: runtime error: load of null pointer of type 'int'"), {
    ending: 'sanitizer',
    sanitizer: 'undefined',
    error: 'load of null pointer',
  });
  assert.deepEqual(classifyEnding(139, false, ''), { ending: 'signal', signal: 'SIGSEGV' });
  assert.deepEqual(classifyEnding(99, false, '', 99), { ending: 'mitigation' });
  assert.deepEqual(classifyEnding(2, false, '', 99), { ending: 'exit' });
  assert.deepEqual(classifyEnding(124, true, ''), { ending: 'timeout' });
  assert.equal(verdictOf('bad', 'timeout'), 'hung');
  assert.equal(verdictOf('good', 'sanitizer'), 'false-positive');
  assert.equal(verdictOf('good', 'signal'), 'failed');
  assert.equal(julietPassed('bad', 139, false), false);
  assert.equal(julietPassed('bad', 99, false, '', 99), true);
  assert.equal(julietPassed('good', 0, false), true);
  assert.deepEqual(resolveCwes(['416', 'CWE121', 'spatial'], [121, 122, 416, 476]), [121, 122, 416]);
  assert.deepEqual(
    discoverTestCases(FIXTURE, [416], 'all').testcases.map((t) => t.flow),
    ['01', '02'],
  );
  const { testcases } = discoverTestCases(FIXTURE, [415], ['01']);
  assert.deepEqual(
    testcases[0]!.files.map((f) => [f.path.split('/').pop(), f.program]),
    [
      ['CWE415_Double_Free__no_copy_const_01_bad.cpp', 'bad'],
      ['CWE415_Double_Free__no_copy_const_01_good1.cpp', 'good'],
    ],
  );
});
