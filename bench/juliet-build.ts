// Compiler invocations and build time per Juliet test case: each program compiled from its own
// sources with -DOMITBAD/-DOMITGOOD -DINCLUDEMAIN (before) against each test case file compiled
// once and linked with a small good-only and a bad-only main (after, what the juliet target
// generates). The suite is generated in Juliet's layout from the test fixture's cases (single-file
// C, multi-file 54a-e, class-based C++ _bad/_good1, single-file C++), renamed to N test cases.
// Both builds use clang-22 -fsanitize=address -O0 with make -jCORES, then every program runs
// once with the fixed input and the endings of the two builds are compared.
//
// Usage: node --import tsx bench/juliet-build.ts [CASES] (default 200)
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { julietMakefile, MAIN_SOURCE, STDIN_TEXT } from '../src/targets/juliet/files.ts';
import { classifyEnding, verdictOf } from '../src/targets/juliet/outcome.ts';
import { discoverTestCases, programFiles, type JulietTestCase } from '../src/targets/juliet/testcases.ts';

const REPO = resolve(import.meta.dirname, '..');
const FIXTURE = join(REPO, 'test/fixtures/juliet');
const CASES = Number(process.argv[2] ?? 200);
const TEMPLATES = [
  'CWE416_Use_After_Free/CWE416_Use_After_Free__malloc_free_char_01',
  'CWE122_Heap_Based_Buffer_Overflow/s01/CWE122_Heap_Based_Buffer_Overflow__c_CWE805_char_memcpy_01',
  'CWE122_Heap_Based_Buffer_Overflow/s01/CWE122_Heap_Based_Buffer_Overflow__c_CWE193_char_cpy_54',
  'CWE415_Double_Free/CWE415_Double_Free__no_copy_const_01',
  'CWE762_Mismatched_Memory_Management_Routines/CWE762_Mismatched_Memory_Management_Routines__delete_array_char_malloc_01',
];

const root = mkdtempSync(join(tmpdir(), 'infra-juliet-bench-'));
const suite = join(root, 'suite');
cpSync(join(FIXTURE, 'testcasesupport'), join(suite, 'testcasesupport'), { recursive: true });
for (let i = 0; i < CASES; i++) {
  const template = TEMPLATES[i % TEMPLATES.length]!;
  const dir = join(FIXTURE, 'testcases', template, '..');
  const name = basename(template);
  const renamed = name.replace(/_(\d{2})$/, `${i}_$1`);
  const out = join(suite, 'testcases', template, '..');
  mkdirSync(out, { recursive: true });
  for (const f of readdirSync(dir).filter((f) => f.startsWith(name))) {
    writeFileSync(join(out, f.replace(name, renamed)), readFileSync(join(dir, f), 'utf8').replaceAll(name, renamed));
  }
}
const cwes = [416, 122, 415, 762];
const { testcases } = discoverTestCases(suite, cwes, ['01', '54']);

// compilers that count their invocations
const counter = join(root, 'invocations');
const wrap = (name: string, real: string) => {
  const path = join(root, name);
  writeFileSync(path, `#!/bin/sh\necho "$@" >> ${counter}\nexec ${real} "$@"\n`, { mode: 0o755 });
  return path;
};
const toolchain = {
  cc: wrap('cc', 'clang-22'),
  cxx: wrap('cxx', 'clang++-22'),
  cflags: ['-fsanitize=address', '-fno-omit-frame-pointer', '-O0'],
  cxxflags: ['-fsanitize=address', '-fno-omit-frame-pointer', '-O0'],
  ldflags: ['-fsanitize=address'],
};

/** The earlier scheme: every program compiles all of its sources with the OMIT macros. */
function beforeMakefile(cases: JulietTestCase[]): string {
  const support = join(suite, 'testcasesupport');
  const lines = [`all: ${cases.flatMap((tc) => [`good/${tc.name}`, `bad/${tc.name}`]).join(' ')}`, ''];
  lines.push(`support/io.o: ${support}/io.c`, `\t${toolchain.cc} ${toolchain.cflags.join(' ')} -I ${support} -c -o $@ $<`, '');
  for (const tc of cases) {
    const [cc, flags] = tc.cxx ? [toolchain.cxx, toolchain.cxxflags] : [toolchain.cc, toolchain.cflags];
    for (const [kind, omit] of [
      ['good', 'OMITBAD'],
      ['bad', 'OMITGOOD'],
    ] as const) {
      const files = programFiles(tc, kind).join(' ');
      lines.push(
        `${kind}/${tc.name}: ${files} support/io.o`,
        `\t${cc} ${flags.join(' ')} -DINCLUDEMAIN -D${omit} -I ${support} -o $@ ${files} support/io.o ${toolchain.ldflags.join(' ')}`,
        '',
      );
    }
  }
  return lines.join('\n');
}

function build(label: string, makefile: string) {
  const dir = join(root, label);
  for (const sub of ['good', 'bad', 'obj', 'support']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, MAIN_SOURCE.file), MAIN_SOURCE.text);
  writeFileSync(join(dir, 'Makefile'), makefile);
  rmSync(counter, { force: true });
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S', 'make', `-j${availableParallelism()}`, '-s', '-k', 'all'], {
    cwd: dir,
    encoding: 'utf8',
  });
  const [wall, user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
  const calls = readFileSync(counter, 'utf8').split('\n').filter(Boolean);
  // translation units: the C and C++ sources the invocations compiled
  const units = calls.reduce((n, c) => n + c.split(' ').filter((w) => /\.(c|cpp)$/.test(w)).length, 0);
  return { dir, wall, cpu: user + sys, invocations: calls.length, units };
}

function outcomes(dir: string): Map<string, string> {
  const stdin = join(root, 'stdin.txt');
  writeFileSync(stdin, STDIN_TEXT);
  const out = new Map<string, string>();
  for (const tc of testcases) {
    for (const kind of ['good', 'bad'] as const) {
      const r = spawnSync(join(dir, kind, tc.name), [], { input: STDIN_TEXT, encoding: 'utf8', timeout: 10_000 });
      const exit = r.status ?? 128 + (r.signal === 'SIGSEGV' ? 11 : r.signal === 'SIGABRT' ? 6 : 9);
      const ending = classifyEnding(exit, r.error !== undefined, r.stderr);
      out.set(`${tc.name}.${kind}`, `${verdictOf(kind, ending.ending)} ${ending.error ?? ending.signal ?? ''}`);
    }
  }
  return out;
}

const before = build('before', beforeMakefile(testcases));
const after = build('after', julietMakefile(suite, testcases, toolchain));
const a = outcomes(before.dir);
const b = outcomes(after.dir);
const differ = [...a].filter(([k, v]) => b.get(k) !== v);

const n = testcases.length;
console.log(
  `${n} test cases (${testcases.filter((t) => t.cxx).length} C++, ${testcases.filter((t) => t.files.length > 1).length} with several files), clang-22 -fsanitize=address -O0, make -j${availableParallelism()}`,
);
console.log('');
console.log('| scheme | compiler invocations | per case | sources compiled | per case | wall s | CPU s | CPU s per case |');
console.log('|--------|---------------------:|---------:|-----------------:|---------:|-------:|------:|---------------:|');
for (const [label, r] of [
  ['before', before],
  ['after', after],
] as const) {
  const per = (x: number) => (x / n).toFixed(2);
  console.log(
    `| ${label} | ${r.invocations} | ${per(r.invocations)} | ${r.units} | ${per(r.units)} | ${r.wall.toFixed(1)} | ${r.cpu.toFixed(1)} | ${(r.cpu / n).toFixed(3)} |`,
  );
}
console.log('');
console.log(
  differ.length
    ? `outcomes differ for ${differ.length} programs: ${differ
        .slice(0, 5)
        .map(([k, v]) => `${k}: ${v} / ${b.get(k)}`)
        .join('; ')}`
    : `identical outcomes for all ${a.size} programs`,
);
rmSync(root, { recursive: true, force: true });
