import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Context, makePaths } from '../src/core/context.js';
import { UserError } from '../src/core/errors.js';
import { Logger } from '../src/core/log.js';
import { applyPatch, patchStamp } from '../src/util/patch.js';
import { findProgram, requireProgram } from '../src/util/programs.js';

/** Temporary directories made by this file, removed when it ends. */
const made: string[] = [];
function track(dir: string): string {
  made.push(dir);
  return dir;
}
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function setup(): { dir: string; ctx: Context; src: string } {
  const dir = track(mkdtempSync(join(tmpdir(), 'infra-patch-')));
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'main.c'), '#include <stdio.h>\nint main(void) {\n  puts("hello");\n  return 0;\n}\n');
  writeFileSync(join(src, 'util.c'), 'int twice(int x) {\n  return 2 * x;\n}\n');
  return { dir, ctx: new Context(makePaths(dir, join(dir, 'setup.ts'), 'test'), new Logger('error')), src };
}

const GOOD = `--- a/main.c
+++ b/main.c
@@ -1,5 +1,5 @@
 #include <stdio.h>
 int main(void) {
-  puts("hello");
+  puts("hello, instrumented world");
   return 0;
 }
`;

/** The first file applies, the second does not: a half-applied tree is what must not happen. */
const HALF = `--- a/main.c
+++ b/main.c
@@ -1,5 +1,5 @@
 #include <stdio.h>
 int main(void) {
-  puts("hello");
+  puts("changed");
   return 0;
 }
--- a/util.c
+++ b/util.c
@@ -1,3 +1,3 @@
 int twice(int x) {
-  return x + x + x;
+  return 3 * x;
 }
`;

function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) files[name] = readFileSync(join(dir, name), 'utf8');
  return files;
}

describe('applyPatch', () => {
  it('applies a patch once and reports later calls as already applied', async () => {
    const { dir, ctx, src } = setup();
    writeFileSync(join(dir, 'greeting.patch'), GOOD);
    assert.equal(await applyPatch(ctx, join(dir, 'greeting.patch'), { cwd: src }), true);
    assert.match(readFileSync(join(src, 'main.c'), 'utf8'), /hello, instrumented world/);
    assert.equal(patchStamp('greeting.patch', src), join(src, '.patched-greeting'));
    assert.ok(existsSync(join(src, '.patched-greeting')));

    const after = snapshot(src);
    assert.equal(await applyPatch(ctx, 'greeting.patch', { cwd: 'src' }), false); // relative to the project root
    assert.deepEqual(snapshot(src), after);
  });

  it('honours strip', async () => {
    const { dir, ctx, src } = setup();
    writeFileSync(join(dir, 'p0.diff'), GOOD.replace('--- a/main.c', '--- main.c').replace('+++ b/main.c', '+++ main.c'));
    assert.equal(await applyPatch(ctx, join(dir, 'p0.diff'), { cwd: src, strip: 0 }), true);
    assert.match(readFileSync(join(src, 'main.c'), 'utf8'), /instrumented/);
    assert.ok(existsSync(join(src, '.patched-p0')));
  });

  it('leaves the tree untouched when any hunk fails, and shows patch output', async () => {
    const { dir, ctx, src } = setup();
    writeFileSync(join(dir, 'half.patch'), HALF);
    const before = snapshot(src);
    await assert.rejects(applyPatch(ctx, join(dir, 'half.patch'), { cwd: src }), (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, /half\.patch does not apply/);
      assert.match(err.message, /FAILED/);
      return true;
    });
    assert.deepEqual(snapshot(src), before, 'no file changed, no .rej/.orig/stamp created');
  });

  it('refuses a patch that was edited after it was applied', async () => {
    const { dir, ctx, src } = setup();
    writeFileSync(join(dir, 'greeting.patch'), GOOD);
    await applyPatch(ctx, join(dir, 'greeting.patch'), { cwd: src });
    writeFileSync(join(dir, 'greeting.patch'), GOOD.replace('instrumented', 'sanitized'));
    await assert.rejects(applyPatch(ctx, join(dir, 'greeting.patch'), { cwd: src }), /changed after it was applied/);
  });

  it('names a missing patch file', async () => {
    const { ctx, src } = setup();
    await assert.rejects(applyPatch(ctx, 'nope.patch', { cwd: src }), /patch file not found: .*nope\.patch/);
  });

  it('does nothing with --dry-run', async () => {
    const { dir, ctx, src } = setup();
    writeFileSync(join(dir, 'greeting.patch'), GOOD);
    ctx.dryRun = true;
    const before = snapshot(src);
    assert.equal(await applyPatch(ctx, join(dir, 'greeting.patch'), { cwd: src }), true);
    assert.deepEqual(snapshot(src), before);
  });
});

describe('findProgram / requireProgram', () => {
  it('finds programs in the PATH of ctx.runenv before the process PATH', () => {
    const { dir, ctx } = setup();
    const bin = join(dir, 'tools');
    mkdirSync(bin);
    writeFileSync(join(bin, 'tar'), '#!/bin/sh\n');
    chmodSync(join(bin, 'tar'), 0o755);
    writeFileSync(join(bin, 'not-executable'), '');
    const systemTar = findProgram(ctx, 'tar');
    assert.ok(systemTar?.endsWith('/tar') && !systemTar.startsWith(bin), 'the system tar before runenv changes');
    ctx.runenv.PATH = [bin];
    assert.equal(findProgram(ctx, 'tar'), join(bin, 'tar'));
    ctx.runenv.PATH = `${bin}:/nonexistent`;
    assert.equal(requireProgram(ctx, 'tar'), join(bin, 'tar'));
    assert.equal(findProgram(ctx, 'not-executable'), null);
    assert.ok(findProgram(ctx, 'sh')?.endsWith('/sh'), 'process PATH is still searched');
    assert.equal(findProgram(ctx, './tools/tar'), join(bin, 'tar'));
  });

  it('explains how to get a missing program', () => {
    const { ctx } = setup();
    assert.throws(
      () => requireProgram(ctx, 'infra-no-such-tool'),
      (err: unknown) => {
        assert.ok(err instanceof UserError);
        assert.equal(
          err.message,
          "required program 'infra-no-such-tool' not found in PATH; install it (e.g. apt-get install infra-no-such-tool)",
        );
        return true;
      },
    );
    assert.throws(() => requireProgram(ctx, 'clang-99'), /apt-get install clang-99\)/);
    assert.throws(() => requireProgram(ctx, 'llvm-config-99'), /apt-get install llvm-99\)/);
    assert.throws(
      () => requireProgram(ctx, 'spec-runcpu', 'point --spec2017-source at a SPEC tree'),
      /not found in PATH; point --spec2017-source/,
    );
  });
});
