import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Context, makePaths } from '../src/core/context.js';
import { UserError } from '../src/core/errors.js';
import { Logger } from '../src/core/log.js';
import { extractArchive, parseTarLine } from '../src/util/archive.js';

/** Temporary directories made by this file, removed when it ends. */
const made: string[] = [];
function track(dir: string): string {
  made.push(dir);
  return dir;
}
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function setup(): { dir: string; ctx: Context } {
  const dir = track(mkdtempSync(join(tmpdir(), 'infra-archive-')));
  return { dir, ctx: new Context(makePaths(dir, join(dir, 'setup.ts'), 'test'), new Logger('error')) };
}

/** A small source tree: pkg-1.0/{README, src/main.c, link -> README}. */
function sourceTree(dir: string): string {
  const root = join(dir, 'tree');
  mkdirSync(join(root, 'pkg-1.0/src'), { recursive: true });
  writeFileSync(join(root, 'pkg-1.0/README'), 'hello\n');
  writeFileSync(join(root, 'pkg-1.0/src/main.c'), 'int main(void) { return 0; }\n');
  symlinkSync('README', join(root, 'pkg-1.0/link'));
  return root;
}

/** Builds a tarball with Python's tarfile: entries are [name, type, linkname?]. */
function craftTar(path: string, entries: Array<[string, 'file' | 'dir' | 'sym' | 'hard' | 'chr', string?]>): void {
  const script = `
import io, json, sys, tarfile
entries = json.loads(sys.argv[2])
kinds = {'file': tarfile.REGTYPE, 'dir': tarfile.DIRTYPE, 'sym': tarfile.SYMTYPE, 'hard': tarfile.LNKTYPE, 'chr': tarfile.CHRTYPE}
with tarfile.open(sys.argv[1], 'w') as t:
    for name, kind, *link in entries:
        info = tarfile.TarInfo(name)
        info.type = kinds[kind]
        data = b'payload\\n' if kind == 'file' else b''
        info.size = len(data)
        if link: info.linkname = link[0]
        t.addfile(info, io.BytesIO(data))
`;
  execFileSync('python3', ['-c', script, path, JSON.stringify(entries)]);
}

function craftZip(path: string, names: string[]): void {
  const script = `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    for n in sys.argv[2:]: z.writestr(n, 'payload\\n')
`;
  execFileSync('python3', ['-c', script, path, ...names]);
}

async function refused(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${err}`);
    assert.match(err.message, pattern);
    return true;
  });
}

/** Nothing created beside the destination: no destDir, no temporary directory (build/ holds the command log). */
function assertUntouched(parent: string, before: string[]): void {
  const now = readdirSync(parent).filter((n) => n !== 'build');
  assert.deepEqual(now.sort(), before.filter((n) => n !== 'build').sort());
}

function hasZstd(): boolean {
  try {
    execFileSync('tar', ['--zstd', '--version'], { stdio: 'ignore' });
    execFileSync('zstd', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('extractArchive: formats', () => {
  const tarFormats: Array<[string, string[]]> = [
    ['pkg.tar.gz', ['-z']],
    ['pkg.tgz', ['-z']],
    ['pkg.tar.xz', ['-J']],
    ['pkg.tar.bz2', ['-j']],
    ['pkg.tar', []],
    ['pkg.tar.zst', ['--zstd']],
  ];
  for (const [name, flags] of tarFormats) {
    it(`extracts ${name} with stripComponents 1`, { skip: name.endsWith('.zst') && !hasZstd() }, async () => {
      const { dir, ctx } = setup();
      const tree = sourceTree(dir);
      const archive = join(dir, name);
      execFileSync('tar', ['-c', ...flags, '-f', archive, '-C', tree, 'pkg-1.0']);
      await extractArchive(ctx, archive, join(dir, 'out/src'), { stripComponents: 1 });
      assert.equal(readFileSync(join(dir, 'out/src/README'), 'utf8'), 'hello\n');
      assert.match(readFileSync(join(dir, 'out/src/src/main.c'), 'utf8'), /int main/);
      assert.equal(readlinkSync(join(dir, 'out/src/link')), 'README');
      assert.deepEqual(readdirSync(join(dir, 'out')), ['src'], 'no temporary directory left');
    });
  }

  it('extracts a .zip, keeping symlinks, with and without stripping', async () => {
    const { dir, ctx } = setup();
    const tree = sourceTree(dir);
    const archive = join(dir, 'pkg.zip');
    execFileSync('zip', ['-q', '-r', '-y', archive, 'pkg-1.0'], { cwd: tree });
    await extractArchive(ctx, archive, join(dir, 'whole'));
    assert.equal(readFileSync(join(dir, 'whole/pkg-1.0/README'), 'utf8'), 'hello\n');
    await extractArchive(ctx, archive, join(dir, 'stripped'), { stripComponents: 1 });
    assert.equal(readFileSync(join(dir, 'stripped/src/main.c'), 'utf8'), 'int main(void) { return 0; }\n');
    assert.ok(lstatSync(join(dir, 'stripped/link')).isSymbolicLink());
    assert.deepEqual(readdirSync(dir).sort(), ['build', 'pkg.zip', 'stripped', 'tree', 'whole']);
  });

  it('replaces an empty destination, refuses a full one unless asked', async () => {
    const { dir, ctx } = setup();
    const tree = sourceTree(dir);
    const archive = join(dir, 'pkg.tar.gz');
    execFileSync('tar', ['-czf', archive, '-C', tree, 'pkg-1.0']);
    mkdirSync(join(dir, 'dest'));
    const abandoned = join(dir, `.dest.extract-${spawnSync('true').pid}-0badf00d`); // from an interrupted run
    mkdirSync(join(abandoned, 'half'), { recursive: true });
    await extractArchive(ctx, archive, join(dir, 'dest'), { stripComponents: 1 });
    assert.equal(existsSync(abandoned), false);
    await refused(extractArchive(ctx, archive, join(dir, 'dest')), /already exists and is not empty/);
    writeFileSync(join(dir, 'dest/stale'), 'old');
    await extractArchive(ctx, archive, join(dir, 'dest'), { stripComponents: 1, replace: true });
    assert.equal(existsSync(join(dir, 'dest/stale')), false);
    assert.equal(existsSync(join(dir, 'dest/README')), true);
  });

  it('handles names with spaces, arrows, quotes, newlines and non-ASCII letters', async () => {
    const { dir, ctx } = setup();
    const archive = join(dir, 'odd.tar');
    const odd = 'pkg/a b -> "c"\nd ü';
    craftTar(archive, [
      ['pkg/dir', 'dir'],
      [odd, 'file'],
      ['pkg/dir/l ü', 'sym', '../a b -> "c"\nd ü'],
    ]);
    await extractArchive(ctx, archive, join(dir, 'dest'), { stripComponents: 1 });
    assert.equal(readFileSync(join(dir, 'dest/dir/l ü'), 'utf8'), 'payload\n');
    assert.deepEqual(parseTarLine('x', 'lrwxrwxrwx 0/0 0 2024-01-01 00:00:00 "p/l \\303\\274 -> x" -> "../t\\"q\\n"'), {
      name: 'p/l ü -> x',
      type: 'symlink',
      target: '../t"q\n',
    });
  });

  it('names the supported types for an unknown one', async () => {
    const { dir, ctx } = setup();
    writeFileSync(join(dir, 'pkg.rar'), 'x');
    await refused(extractArchive(ctx, join(dir, 'pkg.rar'), join(dir, 'out')), /unsupported archive type.*pkg\.rar.*\.tar\.gz.*\.zip/);
  });

  it('reports a corrupt archive as a user error', async () => {
    const { dir, ctx } = setup();
    writeFileSync(join(dir, 'bad.tar.gz'), 'this is not gzip');
    await refused(extractArchive(ctx, join(dir, 'bad.tar.gz'), join(dir, 'out')), /command failed/);
    assert.equal(existsSync(join(dir, 'out')), false);
  });
});

describe('extractArchive: unsafe entries are refused before anything is written', () => {
  const cases: Array<[string, Array<[string, 'file' | 'dir' | 'sym' | 'hard' | 'chr', string?]>, number, RegExp]> = [
    [
      'a ../ entry',
      [
        ['pkg/ok', 'file'],
        ['../evil', 'file'],
      ],
      0,
      /unsafe entry '\.\.\/evil'.*leaves the destination/,
    ],
    ['a .. that escapes only after stripping', [['pkg/../evil', 'file']], 1, /unsafe entry 'pkg\/\.\.\/evil'/],
    ['an absolute path', [['/tmp/infra-absolute-evil', 'file']], 0, /unsafe entry '\/tmp\/infra-absolute-evil': absolute path/],
    ['a symlink out of the tree', [['pkg/l', 'sym', '../../outside']], 0, /symlink target '\.\.\/\.\.\/outside'/],
    ['a symlink that leaves only after stripping', [['pkg/up', 'sym', '../pkg/f']], 1, /symlink target '\.\.\/pkg\/f': it leaves/],
    ['a symlink to an absolute path', [['pkg/etc', 'sym', '/etc']], 0, /symlink to the absolute path '\/etc'/],
    [
      'a file written through a symlink',
      [
        ['pkg/l', 'sym', 'sub'],
        ['pkg/sub', 'dir'],
        ['pkg/l/f', 'file'],
      ],
      0,
      /under the symlink 'pkg\/l'/,
    ],
    [
      'a .. after a symlink',
      [
        ['d', 'sym', '.'],
        ['e', 'sym', 'd/..'],
      ],
      0,
      /'\.\.' after the symlink 'd'/,
    ],
    [
      'a hard link out of the tree',
      [['pkg/h', 'hard', '../../etc/passwd']],
      0,
      /unsafe entry 'pkg\/h': hard link target '\.\.\/\.\.\/etc\/passwd'/,
    ],
    [
      'a hard link to a symlink',
      [
        ['a/l', 'sym', '../x'],
        ['h', 'hard', 'a/l'],
      ],
      0,
      /hard link to the symlink/,
    ],
    ['a device node', [['pkg/dev', 'chr']], 0, /device, socket or fifo/],
  ];
  for (const [what, entries, strip, pattern] of cases) {
    it(`refuses ${what}`, async () => {
      const { dir, ctx } = setup();
      const archive = join(dir, 'evil.tar');
      craftTar(archive, entries);
      const before = readdirSync(dir);
      await refused(extractArchive(ctx, archive, join(dir, 'dest'), { stripComponents: strip }), pattern);
      assertUntouched(dir, before);
      assert.equal(existsSync('/tmp/infra-absolute-evil'), false);
    });
  }

  it('accepts links that stay inside, including through other links', async () => {
    const { dir, ctx } = setup();
    const archive = join(dir, 'fine.tar');
    craftTar(archive, [
      ['pkg/sub', 'dir'],
      ['pkg/sub/f', 'file'],
      ['pkg/l', 'sym', 'sub'],
      ['pkg/m', 'sym', 'l/f'],
      ['pkg/sub/up', 'sym', '../l/f'],
      ['pkg/h', 'hard', 'pkg/sub/f'],
    ]);
    await extractArchive(ctx, archive, join(dir, 'dest'), { stripComponents: 1 });
    assert.equal(readFileSync(join(dir, 'dest/m'), 'utf8'), 'payload\n');
    assert.equal(readFileSync(join(dir, 'dest/h'), 'utf8'), 'payload\n');
    assert.equal(readFileSync(join(dir, 'dest/sub/up'), 'utf8'), 'payload\n');
  });

  it('refuses ../ and absolute entries in a zip', async () => {
    const { dir, ctx } = setup();
    craftZip(join(dir, 'dots.zip'), ['pkg/ok', '../evil']);
    craftZip(join(dir, 'abs.zip'), ['pkg/ok', '/abs']);
    const before = readdirSync(dir);
    await refused(extractArchive(ctx, join(dir, 'dots.zip'), join(dir, 'dest')), /unsafe entry '\.\.\/evil'/);
    await refused(extractArchive(ctx, join(dir, 'abs.zip'), join(dir, 'dest')), /unsafe entry '\/abs': absolute path/);
    assertUntouched(dir, before);
  });

  it('refuses a zip whose symlink leaves the tree, leaving no destination', async () => {
    const { dir, ctx } = setup();
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'pkg'), { recursive: true });
    writeFileSync(join(tree, 'pkg/a'), 'a');
    symlinkSync('../../../etc/passwd', join(tree, 'pkg/pw'));
    execFileSync('zip', ['-q', '-r', '-y', join(dir, 'evil.zip'), 'pkg'], { cwd: tree });
    const before = readdirSync(dir);
    await refused(extractArchive(ctx, join(dir, 'evil.zip'), join(dir, 'dest')), /unsafe entry 'pkg\/pw'.*leaves the destination/);
    assertUntouched(dir, before);
  });
});
