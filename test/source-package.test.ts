// AutotoolsPackage on a tiny tarball made here (a hand-written configure script and Makefile, so
// it runs in a second): fetched by sha256, built out of tree, installed atomically, rebuilt when a
// patch changes, and an install failing halfway leaves no half-filled prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutotoolsPackage, type SourceOptions } from '../src/api.ts';
import { Context, makePaths } from '../src/core/context.ts';
import { ensureInstalled } from '../src/core/install.ts';
import { Logger } from '../src/core/log.ts';
import { sha256File } from '../src/util/hash.ts';

const CONFIGURE = `#!/bin/sh
# writes a Makefile for the prefix it is given, into the (out-of-tree) build directory
for a in "$@"; do case $a in --prefix=*) prefix=\${a#--prefix=};; esac; done
src=$(dirname "$0")
printf 'all:\\n\\tcat %s/message > message\\ninstall:\\n\\tmkdir -p $(DESTDIR)%s/bin $(DESTDIR)%s/share\\n\\tcp message $(DESTDIR)%s/share/message\\n\\tif [ -n "$$FAIL_INSTALL" ]; then exit 1; fi\\n\\tprintf "#!/bin/sh\\\\ncat %s/share/message\\\\n" > $(DESTDIR)%s/bin/greet\\n\\tchmod +x $(DESTDIR)%s/bin/greet\\n' "$src" "$prefix" "$prefix" "$prefix" "$prefix" "$prefix" "$prefix" > Makefile
`;

async function release(dir: string): Promise<{ url: string; sha256: string }> {
  const tree = join(dir, 'greet-1.0');
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(tree, 'configure'), CONFIGURE);
  chmodSync(join(tree, 'configure'), 0o755);
  writeFileSync(join(tree, 'message'), 'hello\n');
  const tarball = join(dir, 'greet-1.0.tar.gz');
  execFileSync('tar', ['-czf', tarball, '-C', dir, 'greet-1.0']);
  return { url: `file://${tarball}`, sha256: await sha256File(tarball) };
}

class Greet extends AutotoolsPackage {
  constructor(options: SourceOptions) {
    super('greet', '1.0', {}, options);
  }
  installedFiles() {
    return ['bin/greet'];
  }
}

function context(): Context {
  const root = mkdtempSync(join(tmpdir(), 'infra-source-package-'));
  return new Context(makePaths(root, join(root, 'setup.ts'), 'test'), new Logger('warning'));
}

test('a source package installs atomically, into build/packages/<ident>/install, and rebuilds when a patch changes', async () => {
  const ctx = context();
  const source = await release(ctx.paths.root);
  const pkg = new Greet(source);
  assert.equal(pkg.ident(), 'greet-1.0');
  await ensureInstalled(ctx, pkg);
  const greet = pkg.prefix(ctx, 'bin', 'greet');
  assert.equal(execFileSync(greet, { encoding: 'utf8' }), 'hello\n');
  assert.ok(existsSync(pkg.path(ctx, 'obj', 'Makefile')), 'configured out of tree');
  assert.ok(!existsSync(pkg.path(ctx, 'install.staging')));
  assert.equal(await ensureInstalled(ctx, pkg), false, 'installed: nothing to do');

  // an install failing halfway (after copying a file) leaves no half prefix and no installed package
  const fctx = ctx.clone();
  fctx.runenv.FAIL_INSTALL = '1';
  await assert.rejects(ensureInstalled(fctx, pkg, { force: true }));
  assert.ok(!existsSync(pkg.prefix(ctx)), 'the half-installed tree stays in the staging directory');
  assert.ok(!existsSync(pkg.path(ctx, '.infra-installed')));
  assert.equal(pkg.isInstalled(ctx), false);

  writeFileSync(join(ctx.paths.root, 'loud.patch'), '--- a/message\n+++ b/message\n@@ -1 +1 @@\n-hello\n+HELLO\n');
  const patched = new Greet({ ...source, patches: ['loud.patch'] });
  assert.equal(patched.isInstalled(ctx), false, 'another patch set is another install');
  assert.equal(await ensureInstalled(ctx, patched), true);
  assert.equal(spawnSync(greet, { encoding: 'utf8' }).stdout, 'HELLO\n');
});

test('a version without a pinned checksum, or a url without one, is refused', () => {
  assert.throws(() => new Greet({}), /greet 1\.0 is not a release this tool knows the checksum of \(known: \); pass \{ url, sha256 \}/);
  assert.throws(() => new Greet({ url: 'https://example.org/greet-1.0.tar.gz' }), /a url needs the sha256/);
  assert.throws(() => new Greet({ url: 'https://example.org/greet-1.0.tar.gz', sha256: 'abc' }), /sha256 must be 64 hex digits/);
});
