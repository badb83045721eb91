// End-to-end: a package that downloads and extracts its sources, through the CLI, with a
// checksum mismatch, a malicious archive, and an offline mirror.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeProject, runInfra } from './helpers.ts';

const SETUP = String.raw`
import { existsSync } from 'node:fs';
import { Setup, Target, Instance, Package, download, extractArchive, type Context, type Runner } from 'instrumentation-infra';

class Src extends Package {
  ident() { return 'src-1.0'; }
  isFetched(ctx: Context) { return existsSync(this.path(ctx, 'src')); }
  async fetch(ctx: Context) {
    const file = await download(ctx, process.env.SRC_URL!, { sha256: process.env.SRC_SHA!, outfile: this.path(ctx, 'src.tar.gz') });
    await extractArchive(ctx, file, this.path(ctx, 'src'), { stripComponents: 1 });
  }
  isBuilt() { return true; }
  build() {}
  isInstalled(ctx: Context) { return existsSync(this.path(ctx, 'src', 'hello.txt')); }
  install() {}
}
class T extends Target {
  readonly name = 't';
  override dependencies() { return [new Src()]; }
  isFetched() { return true; } fetch() {} build() {}
  run(_c: Context, _i: Instance, _r: Runner) {}
}
class I extends Instance { readonly name = 'i'; }
const setup = new Setup(import.meta.url);
setup.addTarget(new T());
setup.addInstance(new I());
await setup.main();
`;

function tarball(dir: string, name: string, evil: boolean): { path: string; sha: string } {
  const path = join(dir, name);
  const script = [
    'import tarfile, io, sys',
    'tf = tarfile.open(sys.argv[1], "w:gz")',
    'def add(n, data):',
    '    ti = tarfile.TarInfo(n); ti.size = len(data); tf.addfile(ti, io.BytesIO(data))',
    'add("src-1.0/hello.txt", b"hello\\n")',
    evil ? 'add("src-1.0/../../escaped.txt", b"gotcha\\n")' : 'pass',
    'tf.close()',
  ].join('\n');
  execFileSync('python3', ['-c', script, path]);
  return { path, sha: createHash('sha256').update(readFileSync(path)).digest('hex') };
}

test('a wrong checksum is an error naming both digests; nothing is installed', () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  const good = tarball(dir, 'good.tar.gz', false);
  const wrong = 'a'.repeat(64);
  const r = runInfra(dir, ['build', 't', 'i'], { env: { SRC_URL: pathToFileURL(good.path).href, SRC_SHA: wrong } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, new RegExp(`expected sha256 ${wrong}`));
  assert.match(r.stderr, new RegExp(good.sha));
  assert.ok(!existsSync(join(dir, 'build/packages/src-1.0/src.tar.gz')), 'the bad file is not kept');
  const ok = runInfra(dir, ['build', 't', 'i'], { env: { SRC_URL: pathToFileURL(good.path).href, SRC_SHA: good.sha } });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(readFileSync(join(dir, 'build/packages/src-1.0/src/hello.txt'), 'utf8'), 'hello\n');
});

test('an archive with an entry escaping the destination is refused', () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  const evil = tarball(dir, 'evil.tar.gz', true);
  const r = runInfra(dir, ['build', 't', 'i'], { env: { SRC_URL: pathToFileURL(evil.path).href, SRC_SHA: evil.sha } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /escaped\.txt/);
  assert.ok(!existsSync(join(dir, 'escaped.txt')) && !existsSync(join(dir, 'build/packages/escaped.txt')));
  assert.ok(!existsSync(join(dir, 'build/packages/src-1.0/src')), 'nothing extracted');
});

test('an offline mirror supplies the file when the URL is unreachable', () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  const good = tarball(dir, 'good.tar.gz', false);
  mkdirSync(join(dir, 'mirror'));
  renameSync(good.path, join(dir, 'mirror', 'renamed-upstream.tar.gz'));
  const url = 'http://127.0.0.1:9/src-1.0.tar.gz'; // discard port: nothing listens
  let r = runInfra(dir, ['build', 't', 'i'], { env: { SRC_URL: url, SRC_SHA: good.sha } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--source-mirror/);
  r = runInfra(dir, ['--source-mirror', join(dir, 'mirror'), 'build', 't', 'i'], { env: { SRC_URL: url, SRC_SHA: good.sha } });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(dir, 'build/packages/src-1.0/src/hello.txt')));
});
