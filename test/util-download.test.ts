import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Context, makePaths } from '../src/core/context.js';
import { UserError } from '../src/core/errors.js';
import { Logger } from '../src/core/log.js';
import { download, MIRROR_INDEX } from '../src/util/download.js';
import { sha256File } from '../src/util/hash.js';

/** Temporary directories made by this file, removed when it ends. */
const made: string[] = [];
function track(dir: string): string {
  made.push(dir);
  return dir;
}
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function makeCtx(dir: string): Context {
  return new Context(makePaths(dir, join(dir, 'setup.ts'), 'test'), new Logger('error'));
}

function tempDir(): string {
  return track(mkdtempSync(join(tmpdir(), 'infra-download-')));
}

/** A port on which nothing listens: any download attempt from it fails at once. */
const DEAD = 'http://127.0.0.1:9';

/** The files of a directory other than our own bookkeeping. */
function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.includes('.part-'));
}

async function rejectsUser(p: Promise<unknown>, ...patterns: RegExp[]): Promise<UserError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError, got ${err}`);
    for (const re of patterns) assert.match(err.message, re);
    return err;
  }
  assert.fail('expected the promise to reject');
}

describe('sha256File', () => {
  it('streams a file larger than one read chunk', async () => {
    const dir = tempDir();
    const data = randomBytes(3 * (1 << 20) + 17);
    writeFileSync(join(dir, 'f'), data);
    assert.equal(await sha256File(join(dir, 'f')), sha(data));
  });
});

describe('download', () => {
  const payload = randomBytes(2 * (1 << 20) + 5);
  const other = Buffer.from('not the tarball you are looking for\n');
  let server: Server;
  let base: string;
  const hits: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/dist/pkg-1.0.tar.gz') {
        res.writeHead(200, { 'content-length': payload.length });
        res.end(payload);
      } else if (req.url === '/dist/tampered.tar.gz') {
        res.end(other);
      } else {
        res.writeHead(404).end('no such file');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('downloads and verifies a file, then reuses it without network access', async () => {
    const dir = tempDir();
    const ctx = makeCtx(dir);
    const before = hits.length;
    const out = await download(ctx, `${base}/dist/pkg-1.0.tar.gz`, { sha256: sha(payload), outfile: 'build/dl/pkg.tar.gz' });
    assert.equal(out, join(dir, 'build/dl/pkg.tar.gz'));
    assert.deepEqual(readFileSync(out), payload);
    assert.equal(hits.length, before + 1);
    assert.deepEqual(leftovers(join(dir, 'build/dl')), []);

    // same outfile again: served from disk, the server is not asked
    const again = await download(ctx, `${base}/dist/pkg-1.0.tar.gz`, { sha256: sha(payload).toUpperCase(), outfile: out });
    assert.equal(again, out);
    assert.equal(hits.length, before + 1);
  });

  it('replaces an outfile whose digest is wrong, and removes abandoned partial downloads', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'pkg.tar.gz'), other);
    const dead = spawnSync('true').pid; // a process that has exited
    const live = process.ppid;
    writeFileSync(join(dir, `.pkg.tar.gz.part-${dead}-0badf00d`), 'half a download');
    writeFileSync(join(dir, `.pkg.tar.gz.part-${live}-0badf00d`), 'still being written');
    const out = await download(makeCtx(dir), `${base}/dist/pkg-1.0.tar.gz`, { sha256: sha(payload), outfile: 'pkg.tar.gz' });
    assert.deepEqual(readFileSync(out), payload);
    assert.deepEqual(leftovers(dir), [`.pkg.tar.gz.part-${live}-0badf00d`]);
  });

  it('rejects a checksum mismatch, naming both digests, and keeps nothing', async () => {
    const dir = tempDir();
    const url = `${base}/dist/tampered.tar.gz`;
    const err = await rejectsUser(download(makeCtx(dir), url, { sha256: sha(payload), outfile: 'x.tar.gz' }), /checksum mismatch/);
    assert.ok(err.message.includes(url));
    assert.ok(err.message.includes(sha(payload)), 'expected digest in message');
    assert.ok(err.message.includes(sha(other)), 'actual digest in message');
    assert.equal(existsSync(join(dir, 'x.tar.gz')), false);
    assert.deepEqual(leftovers(dir), []);
  });

  it('uses a mirror file found by content, with no server at all', async () => {
    const dir = tempDir();
    const mirror = join(dir, 'mirror');
    mkdirSync(mirror);
    writeFileSync(join(mirror, 'unrelated.txt'), other);
    writeFileSync(join(mirror, 'pkg_1.0.orig.tar.gz'), payload); // Debian's name for the same bytes
    const ctx = makeCtx(dir);
    ctx.sourceMirrors = [mirror];
    const out = await download(ctx, `${DEAD}/dist/pkg-1.0.tar.gz`, { sha256: sha(payload), outfile: 'src.tar.gz' });
    assert.deepEqual(readFileSync(out), payload);

    // digests are cached in the mirror, keyed by name, size and mtime
    const index = JSON.parse(readFileSync(join(mirror, MIRROR_INDEX), 'utf8'));
    assert.equal(index.files['pkg_1.0.orig.tar.gz'].sha256, sha(payload));
    assert.equal(index.files['pkg_1.0.orig.tar.gz'].size, payload.length);
  });

  it('finds mirrors given in INFRA_SOURCE_MIRROR and in options', async () => {
    const dir = tempDir();
    const [m1, m2, m3] = ['m1', 'm2', 'm3'].map((n) => join(dir, n));
    for (const m of [m1!, m2!, m3!]) mkdirSync(m);
    writeFileSync(join(m3!, 'pkg-1.0.tar.gz'), payload);
    const saved = process.env.INFRA_SOURCE_MIRROR;
    process.env.INFRA_SOURCE_MIRROR = `${m2}:${m3}`;
    try {
      const out = await download(makeCtx(dir), `${DEAD}/pkg-1.0.tar.gz`, { sha256: sha(payload), outfile: 'a', mirrors: [m1!] });
      assert.deepEqual(readFileSync(out), payload);
    } finally {
      if (saved === undefined) delete process.env.INFRA_SOURCE_MIRROR;
      else process.env.INFRA_SOURCE_MIRROR = saved;
    }
    // an option mirror alone also works
    const out = await download(makeCtx(dir), `${DEAD}/pkg-1.0.tar.gz`, { sha256: sha(payload), outfile: 'b', mirrors: [m3!] });
    assert.deepEqual(readFileSync(out), payload);
  });

  it('ignores a mirror file with the right name but the wrong content, naming the mismatch if nothing else works', async () => {
    const dir = tempDir();
    const mirror = join(dir, 'mirror');
    mkdirSync(mirror);
    writeFileSync(join(mirror, 'pkg-1.0.tar.gz'), other);
    const ctx = makeCtx(dir);
    ctx.sourceMirrors = mirror as unknown as string[]; // a single string (from a setup in JavaScript) is accepted too

    // without a server: the bad mirror file is not used, and the error names the checksum mismatch
    await rejectsUser(
      download(ctx, `${DEAD}/dist/pkg-1.0.tar.gz`, { sha256: sha(payload), outfile: 'p.tar.gz' }),
      new RegExp(
        `^checksum mismatch: the source mirror has ${join(mirror, 'pkg-1.0.tar.gz')} with sha256 ${sha(other)}, expected sha256 ${sha(payload)}`,
      ),
      /update the sha256 in the setup script, else replace it/,
      /downloading http:\/\/127\.0\.0\.1:9\/dist\/pkg-1\.0\.tar\.gz instead failed too/,
    );
    assert.equal(existsSync(join(dir, 'p.tar.gz')), false);

    // with the server: fetched from the network, the mirror file untouched
    const out = await download(ctx, `${base}/dist/pkg-1.0.tar.gz`, { sha256: sha(payload), outfile: 'p.tar.gz' });
    assert.deepEqual(readFileSync(out), payload);
    assert.deepEqual(readFileSync(join(mirror, 'pkg-1.0.tar.gz')), other);
  });

  it('does not trust a cached digest once the mirror file changed', async () => {
    const dir = tempDir();
    const mirror = join(dir, 'mirror');
    mkdirSync(mirror);
    const file = join(mirror, 'pkg-1.0.tar.gz');
    writeFileSync(file, payload);
    const ctx = makeCtx(dir);
    await download(ctx, `${DEAD}/pkg-1.0.tar.gz`, { sha256: sha(payload), outfile: 'one', mirrors: [mirror] });
    writeFileSync(file, other); // new size and mtime: the index entry no longer applies
    await rejectsUser(
      download(ctx, `${DEAD}/pkg-1.0.tar.gz`, { sha256: sha(payload), outfile: 'two', mirrors: [mirror] }),
      new RegExp(`checksum mismatch: .* with sha256 ${sha(other)}`),
    );
    const index = JSON.parse(readFileSync(join(mirror, MIRROR_INDEX), 'utf8'));
    assert.equal(index.files['pkg-1.0.tar.gz'].sha256, sha(other));
  });

  it('works with a mirror where no index can be written', async (t) => {
    const dir = tempDir();
    const mirror = join(dir, 'ro');
    mkdirSync(mirror);
    writeFileSync(join(mirror, 'x.bin'), payload);
    // root ignores directory permissions, so make the index unwritable by putting a directory in its place
    mkdirSync(join(mirror, MIRROR_INDEX));
    const out = await download(makeCtx(dir), `${DEAD}/y.bin`, { sha256: sha(payload), outfile: 'y.bin', mirrors: [mirror] });
    assert.deepEqual(readFileSync(out), payload);
    assert.ok(statSync(join(mirror, MIRROR_INDEX)).isDirectory());
    t.diagnostic('mirror lookup succeeded without a writable index');
  });

  it('reports HTTP errors with the URL', async () => {
    const dir = tempDir();
    await rejectsUser(
      download(makeCtx(dir), `${base}/missing.tar.gz`, { sha256: sha(payload), outfile: 'm' }),
      /could not download .*\/missing\.tar\.gz: HTTP 404/,
    );
    assert.deepEqual(
      readdirSync(dir).filter((n) => n !== 'build'),
      [],
    );
  });

  it('requires a sha256 unless insecure is explicit', async () => {
    const dir = tempDir();
    const ctx = makeCtx(dir);
    const url = `${base}/dist/pkg-1.0.tar.gz`;
    await rejectsUser(download(ctx, url, { sha256: null, outfile: 'a' }), /no sha256 given for .*pkg-1\.0\.tar\.gz/, /insecure: true/);
    await rejectsUser(download(ctx, url, { sha256: '', outfile: 'a' }), /no sha256 given/);
    await rejectsUser(download(ctx, url, { sha256: 'abc123', outfile: 'a' }), /invalid sha256/);
    const out = await download(ctx, url, { sha256: null, insecure: true, outfile: 'a' });
    assert.deepEqual(readFileSync(out), payload);
  });

  it('copies file: URLs with the same verification', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'local.tar.gz'), payload);
    const url = pathToFileURL(join(dir, 'local.tar.gz')).href;
    const out = await download(makeCtx(dir), url, { sha256: sha(payload), outfile: 'copy.tar.gz' });
    assert.deepEqual(readFileSync(out), payload);
    await rejectsUser(download(makeCtx(dir), url, { sha256: sha(other), outfile: 'bad.tar.gz' }), /checksum mismatch for file:/);
    assert.equal(existsSync(join(dir, 'bad.tar.gz')), false);
  });

  it('only prints what it would do with --dry-run', async () => {
    const dir = tempDir();
    const ctx = makeCtx(dir);
    ctx.dryRun = true;
    const before = hits.length;
    const out = await download(ctx, `${base}/dist/pkg-1.0.tar.gz`, { sha256: sha(payload), outfile: 'dry/pkg.tar.gz' });
    assert.equal(out, join(dir, 'dry/pkg.tar.gz'));
    assert.equal(existsSync(join(dir, 'dry')), false);
    assert.equal(hits.length, before);
    rmSync(dir, { recursive: true });
  });
});
