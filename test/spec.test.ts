// The spec2006 and spec2017 targets against a fake SPEC installation (test/fixtures/spec-harness):
// SPEC itself is commercial, so the fixture reproduces the harness's documented interface.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, makeProject, runInfra } from './helpers.ts';

const FIXTURE = join(REPO, 'test', 'fixtures', 'spec-harness');

const SETUP = String.raw`
import { Setup, Gcc, Clang, LLVM, SPEC2006, SPEC2017 } from 'instrumentation-infra';

/** gcc with a run wrapper, which SPEC must put around the benchmark (monitor_wrapper), not itself. */
class WrappedGcc extends Gcc {
  override readonly name = 'gcc-wrapped';
  override prepareRun(ctx) {
    ctx.targetRunWrapper.push('/usr/bin/env', 'WRAPPED_BY_INFRA=1');
  }
}

const setup = new Setup(import.meta.url);
setup.addTarget(new SPEC2006({ source: 'spec2006', sourceType: 'installed' }));
setup.addTarget(new SPEC2017({ source: 'cpu2017-iso.tar.gz', sourceType: 'tarfile', nothp: false, defaultBenchmarks: ['605.mcf_s', '619.lbm_s'] }));
setup.addInstance(new Gcc());
setup.addInstance(new WrappedGcc());
setup.addInstance(new Clang(LLVM.installed({ version: '22' })));
await setup.main();
`;

let dir = '';
const spec = () => join(dir, 'spec2006');

function records(): any[] {
  return readFileSync(join(dir, 'results/last/records.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

before(() => {
  dir = makeProject({ 'setup.ts': SETUP }, 'infra-spec-');
  cpSync(FIXTURE, spec(), { recursive: true });
  // the CPU2017 "ISO contents" as a tarball, installed by the target with install.sh
  execFileSync('tar', ['-czf', join(dir, 'cpu2017-iso.tar.gz'), '-C', FIXTURE, '.']);
  const r = runInfra(dir, ['build', 'spec2006', 'gcc', 'clang', '--spec2006-benchmarks', '401.bzip2', '429.mcf']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test("the config file carries the instance's compiler and flags", () => {
  const gcc = readFileSync(join(spec(), 'config/infra-gcc.cfg'), 'utf8');
  assert.match(gcc, /^ext\s+= infra-gcc$/m);
  assert.match(gcc, /^tune\s+= base$/m);
  assert.match(gcc, /^reportable\s+= no$/m);
  assert.match(gcc, /^makeflags\s+= -j\d+$/m);
  assert.match(gcc, /^CC\s+= \S*gcc\S*$/m);
  assert.match(gcc, /^COPTIMIZE\s+= .*-O2/m);
  const clang = readFileSync(join(spec(), 'config/infra-clang.cfg'), 'utf8');
  assert.match(clang, /^CC\s+= \S*clang\S*$/m);
  // the harness built with exactly these settings
  const log = readFileSync(join(dir, 'build/log/commands.txt'), 'utf8');
  assert.match(log, /runspec --config=infra-clang --action=build --rebuild 401\.bzip2 429\.mcf/);
  assert.ok(existsSync(join(spec(), 'benchspec/CPU2006/401.bzip2/exe/bzip2_base.infra-clang')));
  assert.ok(existsSync(join(spec(), 'benchspec/CPU2006/429.mcf/exe/mcf_base.infra-gcc')));
});

test('an unchanged configuration is not rebuilt (build takes --benchmarks as the reference does)', () => {
  const r = runInfra(dir, ['build', 'spec2006', 'gcc', '--benchmarks', '401.bzip2', '429.mcf']);
  assert.equal(r.code, 0, r.stderr);
  const log = readFileSync(join(dir, 'build/log/commands.txt'), 'utf8');
  assert.equal(log.match(/^\$ .*runspec --config=infra-gcc --action=build/gm)?.length, 1);
});

test('each iteration of each benchmark is one harness run with its ratio and runtime recorded', () => {
  const r = runInfra(dir, ['run', 'spec2006', 'gcc', 'clang', '--benchmarks', '401.bzip2', '429.mcf', '--test', '-i', '3']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const recs = records();
  assert.equal(recs.length, 2 * 2 * 3);
  for (const rec of recs) {
    assert.equal(rec.status, 'ok', JSON.stringify(rec));
    assert.equal(rec.fields.workload, 'test');
    assert.ok(rec.fields.ratio > 0, JSON.stringify(rec.fields));
    assert.ok(rec.fields.specRuntime > 0 && rec.fields.specRuntime < rec.fields.runtime, JSON.stringify(rec.fields));
    assert.equal(rec.fields['check.runtime'], undefined, 'the target does not report under a measured name');
    assert.match(rec.fields.specLog, /result\/CPU2006\.\d{3}\.log$/);
    const out = readFileSync(join(dir, 'results/last', rec.stdout), 'utf8');
    assert.match(out, /--nobuild --size=test --iterations=1/);
    assert.match(out, /The log for this run is in .*CPU2006\.\d{3}\.log/);
  }
  const runs = readdirSync(join(spec(), 'benchspec/CPU2006/429.mcf/run')).filter((d) => d.startsWith('run_base_test_infra-clang.'));
  assert.equal(runs.length, 3);
  assert.match(
    readFileSync(join(spec(), 'benchspec/CPU2006/429.mcf/run', runs[0]!, 'speccmds.cmd'), 'utf8'),
    /mcf_base\.infra-clang 2000 4/,
  );

  const report = runInfra(dir, ['report', 'spec2006', 'results/last', '--overhead', 'gcc', '-f', 'specRuntime:median', 'ratio:median']);
  assert.equal(report.code, 0, report.stderr);
  assert.match(report.stdout, /401\.bzip2/);
  assert.match(report.stdout, /429\.mcf/);
  assert.match(report.stdout, /geomean/i);
});

test('a run wrapper wraps the benchmark through monitor_wrapper, not the harness', () => {
  assert.equal(runInfra(dir, ['build', 'spec2006', 'gcc-wrapped', '--spec2006-benchmarks', '401.bzip2']).code, 0);
  const r = runInfra(dir, ['run', 'spec2006', 'gcc-wrapped', '--benchmarks', '401.bzip2', '--test']);
  assert.equal(r.code, 0, r.stderr);
  const cfg = readFileSync(join(spec(), 'config/infra-gcc-wrapped.cfg'), 'utf8');
  assert.match(cfg, /^monitor_wrapper\s+= \/usr\/bin\/env WRAPPED_BY_INFRA=1 \$command$/m);
  const [rec] = records();
  assert.equal(rec.status, 'ok');
  assert.doesNotMatch(readFileSync(join(dir, 'results/last', rec.stdout), 'utf8'), /WRAPPED_BY_INFRA/);
});

test('unknown benchmarks name the valid benchmarks and sets', () => {
  const r = runInfra(dir, ['run', 'spec2006', 'gcc', '--test', '--benchmarks', '999.nope']);
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /unknown benchmark '999\.nope'; valid benchmarks: 400\.perlbench, 401\.bzip2, .*483\.xalancbmk; valid sets: all, all_c, all_cpp, all_fortran, all_mixed, fp, int/,
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('a benchmark the harness reports as a miscompare is a failed execution', () => {
  const exe = join(spec(), 'benchspec/CPU2006/429.mcf/exe/mcf_base.infra-gcc');
  writeFileSync(exe, '#!/bin/sh\necho "paths: wrong answer"\n');
  chmodSync(exe, 0o755);
  const r = runInfra(dir, ['run', 'spec2006', 'gcc', '--test', '--benchmarks', '401.bzip2', '429.mcf']);
  assert.notEqual(r.code, 0);
  const by = Object.fromEntries(records().map((x) => [x.benchmark, x]));
  assert.equal(by['401.bzip2'].status, 'ok');
  assert.equal(by['429.mcf'].status, 'failed');
  assert.match(by['429.mcf'].reason, /Error 429\.mcf .*Miscompare of mcf\.out/);
});

test('spec2017 installs from a tarball with install.sh and runs runcpu with refspeed workloads', () => {
  const b = runInfra(dir, ['build', 'spec2017', 'gcc', '--spec2017-benchmarks', '605.mcf_s', '619.lbm_s']);
  assert.equal(b.code, 0, b.stdout + b.stderr);
  const installed = join(dir, 'build/targets/spec2017/install');
  assert.match(readFileSync(join(installed, 'config/infra-gcc.cfg'), 'utf8'), /^label\s+= infra-gcc$/m);
  const r = runInfra(dir, ['run', 'spec2017', 'gcc', '-i', '2']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const recs = records();
  assert.deepEqual([...new Set(recs.map((x) => x.benchmark))].sort(), ['605.mcf_s', '619.lbm_s']);
  for (const rec of recs) {
    assert.equal(rec.status, 'ok', JSON.stringify(rec));
    assert.equal(rec.fields.workload, 'refspeed');
    assert.equal(rec.fields.suite, rec.benchmark === '605.mcf_s' ? 'intspeed' : 'fpspeed');
    assert.ok(rec.fields.ratio > 0);
  }
  const rsf = readdirSync(join(installed, 'result')).filter((f) => f.endsWith('.intspeed.refspeed.rsf'));
  assert.equal(rsf.length, 2);
  assert.match(readFileSync(join(installed, 'result', rsf[0]!), 'utf8'), /^spec\.cpu2017\.results\.605_mcf_s\.base\.000\.ratio: [\d.]+$/m);
});
