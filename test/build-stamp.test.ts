// BuildStamp, in-process: what it records, how it words a change, and that a dry run neither
// records nor refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildStamp, Context, UserError } from '../src/api.ts';
import { makePaths } from '../src/core/context.ts';
import { Logger } from '../src/core/log.ts';

function context(): Context {
  const dir = mkdtempSync(join(tmpdir(), 'infra-stamp-'));
  return new Context(makePaths(dir, join(dir, 'setup.ts'), 'test'), new Logger('warning'));
}

const where = { target: 'mine', instance: 'asan' };

test('an unbuilt, an up-to-date and a changed build', () => {
  const ctx = context();
  const file = join(ctx.paths.root, 'stamp.json');
  const config = { cc: 'clang', cflags: ['-O2'], source: { sha256: 'a'.repeat(64) }, script: 'a\nb\nc' };
  const stamp = new BuildStamp(ctx, file, config);
  assert.deepEqual(stamp.changes(), ['not built']);
  assert.throws(
    () => stamp.refuseIfStale(where),
    /^UserError: mine for asan is not built; build it with `infra build mine asan` \(or use run --build\)$/,
  );
  stamp.record();
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { ...config, buildInputs: {} }, 'the configuration itself is recorded');
  assert.equal(new BuildStamp(ctx, file, config).isUpToDate(), true);

  const changed = new BuildStamp(ctx, file, {
    cc: 'clang',
    cflags: ['-O2', '-fsanitize=address'],
    source: { sha256: 'b'.repeat(64) },
    script: 'a\nB\nc',
    lto: true,
  });
  assert.deepEqual(changed.changes(), [
    "cflags: '-O2' -> '-O2 -fsanitize=address'",
    'source.sha256 changed',
    "script: line 2 'b' -> 'B'",
    'lto: added true',
  ]);
  assert.throws(
    () => changed.refuseIfStale({ ...where, what: 'mine/prog for asan' }),
    (e: unknown) =>
      e instanceof UserError &&
      /^mine\/prog for asan is out of date: cflags: .*; lto: added true; rebuild it with `infra build mine asan`/.test(e.message),
  );
});

test('a changed build input, a missing output and a stamp of an earlier version make a build stale', () => {
  const ctx = context();
  const plugin = join(ctx.paths.root, 'plugin.so');
  writeFileSync(plugin, 'v1');
  ctx.buildInputs.push(plugin);
  const binary = join(ctx.paths.root, 'prog');
  writeFileSync(binary, '');
  const file = join(ctx.paths.root, 'stamp.json');
  new BuildStamp(ctx, file, { cc: 'cc' }, [binary]).record();
  assert.deepEqual(new BuildStamp(ctx, file, { cc: 'cc' }, [binary]).changes(), []);
  utimesSync(plugin, new Date(), new Date(Date.now() + 5000));
  assert.deepEqual(new BuildStamp(ctx, file, { cc: 'cc' }, [binary]).changes(), [`build input ${plugin} changed`]);
  assert.deepEqual(new BuildStamp(ctx, file, { cc: 'cc' }, [join(ctx.paths.root, 'gone')]).changes(), [
    `build input ${plugin} changed`,
    `${join(ctx.paths.root, 'gone')} is missing`,
  ]);
  writeFileSync(file, '0123456789abcdef\n');
  assert.deepEqual(new BuildStamp(ctx, file, { cc: 'cc' }).changes(), ['built by an earlier version of instrumentation-infra']);
});

test('a dry run records nothing and refuses nothing', () => {
  const ctx = context();
  ctx.dryRun = true;
  const file = join(ctx.paths.root, 'stamp.json');
  const stamp = new BuildStamp(ctx, file, { cc: 'cc' });
  stamp.record();
  assert.equal(existsSync(file), false);
  stamp.refuseIfStale(where);
  assert.equal(stamp.isUpToDate(), false, 'it still tells the truth');
});
