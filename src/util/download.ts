import { isTerminal } from '../core/log.js';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import { isSha256, sha256File, sha256Hasher } from './hash.js';
import { processExists } from './process.js';
import { interruptSignal, isInterrupted, throwIfInterrupted } from '../exec/interrupt.js';
import { httpGet, TransientHttpError } from './http.js';

/** Options of {@link download}. */
export interface DownloadOptions {
  /**
   * Expected SHA-256 of the file (64 hex digits). Required: pass `null` together with
   * `insecure: true` only for user packages whose contents cannot be pinned.
   */
  sha256: string | null;
  /** Where the verified file ends up (relative paths are relative to the project root). */
  outfile: string;
  /** Extra offline mirror directories, searched before those given by the user. */
  mirrors?: string[];
  /** Explicitly accept a download without a checksum (requires `sha256: null`). */
  insecure?: boolean;
  /** Expected size in bytes, when known: mirror files of another size are not even hashed. */
  size?: number;
  /** Give up a transfer that sends nothing for this many seconds (default 30). */
  stallSeconds?: number;
  /** Attempts after a transient failure (network, stall, HTTP 408/429/5xx; default 3). */
  retries?: number;
}

/** Environment variable with ':'-separated offline mirror directories. */
export const MIRROR_ENV = 'INFRA_SOURCE_MIRROR';
/** Digest cache kept in writable mirror directories. */
export const MIRROR_INDEX = '.infra-sha256-index.json';

const MIRROR_HINT =
  `an offline copy can be supplied with --source-mirror DIR or ${MIRROR_ENV}=DIR ` +
  '(a directory holding the file under any name; it is found by its sha256)';

/**
 * Fetches `url` into `outfile` and returns the path of the verified file.
 *
 * In order: a file already at `outfile` with the right digest is reused; then the offline
 * mirror directories (`options.mirrors`, `--source-mirror`, `$INFRA_SOURCE_MIRROR`) are
 * searched for a file with that digest (by the URL's basename first, then by content);
 * only then is the network used (through the proxy the environment names, see src/util/http.ts;
 * transient failures and stalls are retried with backoff). Downloads stream to a temporary file beside `outfile`,
 * are hashed on the fly and renamed into place only when the digest matches, so `outfile`
 * never holds a partial or unverified file.
 */
export async function download(ctx: Context, url: string, options: DownloadOptions): Promise<string> {
  const expected = checkedDigest(url, options);
  const outfile = resolve(ctx.paths.root, options.outfile);
  if (ctx.dryRun) {
    process.stdout.write(`download ${url} -> ${outfile}${expected ? ` (sha256 ${expected})` : ''}\n`);
    return outfile;
  }
  if (await reuseExisting(ctx, outfile, expected)) return outfile;
  await mkdir(dirname(outfile), { recursive: true });
  await removeAbandoned(dirname(outfile), `.${basename(outfile)}.part-`);

  // mirror files named like the URL's file but with other contents: the likely cause if the download fails
  const mismatches: string[] = [];
  if (expected && (await fromMirrors(ctx, url, outfile, expected, options, mismatches))) return outfile;

  if (url.startsWith('file:')) {
    const source = fileURLToPath(url);
    await placeVerified(outfile, expected, url, (tmp) => copyFile(source, tmp));
    return outfile;
  }
  ctx.log.info(`downloading ${url}`);
  try {
    await placeVerified(outfile, expected, url, (tmp) => fetchTo(ctx, url, tmp, options));
  } catch (err) {
    if (!mismatches.length || !(err instanceof UserError) || isInterrupted()) throw err;
    throw new UserError(
      `checksum mismatch: the source mirror has ${[...new Set(mismatches)].join('; ')}, expected sha256 ${expected}; ` +
        `if that file is the right one, update the sha256 in the setup script, else replace it ` +
        `(downloading ${url} instead failed too: ${err.message.replace(/^could not download \S+: /, '').replace(`; ${MIRROR_HINT}`, '')})`,
      { cause: err },
    );
  }
  return outfile;
}

/**
 * Places the mirror file with the expected digest at `outfile`, if there is one. A file whose
 * digest in a mirror's index is stale (changed without changing size and mtime) fails the
 * check: it is hashed again and the search goes on, through the other files and mirrors.
 */
async function fromMirrors(
  ctx: Context,
  url: string,
  outfile: string,
  expected: string,
  options: DownloadOptions,
  mismatches: string[],
): Promise<boolean> {
  const stale = new Set<string>();
  for (const dir of mirrorDirs(ctx, options.mirrors)) {
    for (;;) {
      const found = await findInMirror(ctx, dir, expected, urlBasename(url), options.size, mismatches, stale);
      if (!found) break;
      ctx.log.info(`using ${found} from source mirror for ${url}`);
      try {
        await placeVerified(outfile, expected, found, (tmp) => copyFile(found, tmp));
        return true;
      } catch (e) {
        if (!(e instanceof ChecksumMismatch)) throw e;
        ctx.log.warning(
          `mirror file ${found} does not have the sha256 its index says (it changed without a new size or time); ` +
            `re-indexing it and trying the other mirror files, then ${url}`,
        );
        stale.add(found);
        await reindex(ctx, dir, found);
      }
    }
  }
  if (stale.size) ctx.log.info(`no mirror file has sha256 ${expected}; downloading ${url}`);
  return false;
}

/** A downloaded or copied file whose digest is not the expected one. */
class ChecksumMismatch extends UserError {}

function checkedDigest(url: string, options: DownloadOptions): string | null {
  const { sha256 } = options;
  if (sha256 === null && options.insecure === true) return null;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- setup scripts in JavaScript may pass anything
  if (sha256 === null || sha256 === undefined || sha256 === '') {
    throw new UserError(
      `no sha256 given for ${url}; add the file's digest (print it with 'sha256sum FILE'), ` +
        'or pass { sha256: null, insecure: true } to accept an unverified download',
    );
  }
  if (!isSha256(sha256)) {
    throw new UserError(`invalid sha256 for ${url}: '${String(sha256)}'; expected 64 hexadecimal digits`);
  }
  return sha256.toLowerCase();
}

async function reuseExisting(ctx: Context, outfile: string, expected: string | null): Promise<boolean> {
  const st = await stat(outfile).catch(() => null);
  if (!st) return false;
  if (!st.isFile()) throw new UserError(`download destination ${outfile} exists and is not a regular file`);
  // without a digest a finished file is all we can know: outfile only ever appears complete
  if (expected === null) return true;
  const actual = await sha256File(outfile);
  if (actual === expected) {
    ctx.log.debug(`reusing ${outfile} (sha256 matches)`);
    return true;
  }
  ctx.log.warning(`${outfile} has sha256 ${actual}, expected ${expected}; fetching it again`);
  await rm(outfile, { force: true });
  return false;
}

/**
 * Fills a temporary file beside `outfile` with `fill`, checks its digest and renames it into
 * place. On any failure the temporary file is removed and `outfile` is left absent.
 */
async function placeVerified(
  outfile: string,
  expected: string | null,
  source: string,
  fill: (tmp: string) => Promise<string | void>,
): Promise<void> {
  const tmp = join(dirname(outfile), `.${basename(outfile)}.part-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const streamed = await fill(tmp);
    if (expected !== null) {
      const actual = streamed ?? (await sha256File(tmp));
      if (actual !== expected) {
        throw new ChecksumMismatch(
          `checksum mismatch for ${source}:\n  expected sha256 ${expected}\n  actual   sha256 ${actual}\n` +
            '  the file was not kept; if the new contents are trusted, update the sha256',
        );
      }
    }
    await rename(tmp, outfile);
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Removes temporaries named `<prefix><pid>-...` left by processes that no longer exist (an
 * interrupted download), so they do not pile up. Temporaries of live processes are kept.
 */
export async function removeAbandoned(dir: string, prefix: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (pid && pid !== process.pid && !processExists(pid)) await rm(join(dir, name), { recursive: true, force: true });
  }
}

/** Seconds without data after which a transfer is given up (and tried again). */
export const DEFAULT_STALL_SECONDS = 30;
/** Further attempts after a transient failure, with waits of 1, 2, 4... seconds. */
export const DEFAULT_RETRIES = 3;

/** Streams a URL into `tmp`, returning its sha256; transient failures are retried with backoff. */
async function fetchTo(ctx: Context, url: string, tmp: string, options: DownloadOptions): Promise<string> {
  const retries = options.retries ?? DEFAULT_RETRIES;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetchOnce(ctx, url, tmp, options.stallSeconds ?? DEFAULT_STALL_SECONDS);
    } catch (err) {
      throwIfInterrupted();
      const transient = err instanceof TransientHttpError;
      if (!transient || attempt >= retries) {
        const tries = attempt > 0 ? ` (after ${attempt + 1} attempts)` : '';
        throw new UserError(`could not download ${url}${tries}: ${describeFetchError(err)}; ${MIRROR_HINT}`, { cause: err });
      }
      const wait = 1000 * 2 ** attempt;
      ctx.log.warning(`downloading ${url} failed: ${describeFetchError(err)}; trying again in ${wait / 1000} s`);
      await sleep(wait);
    }
  }
}

async function fetchOnce(ctx: Context, url: string, tmp: string, stallSeconds: number): Promise<string> {
  const response = await httpGet(url, { stallSeconds, signal: interruptSignal });
  const total = Number(response.headers['content-length']) || undefined;
  const hash = sha256Hasher();
  const progress = new Progress(ctx, url, total);
  response.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    progress.advance(chunk.length);
  });
  try {
    await pipeline(response, createWriteStream(tmp));
  } catch (err) {
    // a stall or a dropped connection mid-transfer: the request's error says which
    throw err instanceof TransientHttpError ? err : new TransientHttpError(`the transfer was cut off: ${describeFetchError(err)}`);
  } finally {
    progress.done();
  }
  if (total !== undefined && progress.received !== total) {
    throw new TransientHttpError(`the transfer ended after ${progress.received} of ${total} bytes`);
  }
  return hash.digest('hex');
}

/** Waits `ms`, or less if the user interrupts. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      interruptSignal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    interruptSignal.addEventListener('abort', done, { once: true });
  });
}

function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause : undefined;
  const code = cause ? (cause as NodeJS.ErrnoException).code : undefined;
  return cause ? `${err.message} (${code ? `${code}: ` : ''}${cause.message})` : err.message;
}

/** Progress on stderr: a live line on a terminal, a plain line every few seconds otherwise. */
class Progress {
  received = 0;
  private readonly start = Date.now();
  private last = this.start;
  private shown = false;
  private readonly enabled: boolean;
  private readonly tty = isTerminal(process.stderr);

  constructor(
    ctx: Context,
    private readonly url: string,
    private readonly total: number | undefined,
  ) {
    this.enabled = ctx.log.threshold === 'info' || ctx.log.threshold === 'debug';
  }

  advance(bytes: number): void {
    this.received += bytes;
    if (!this.enabled) return;
    const now = Date.now();
    // short downloads stay quiet; long ones report every 0.25 s on a terminal, every 5 s otherwise
    if (now - this.start < 1000 || now - this.last < (this.tty ? 250 : 5000)) return;
    this.last = now;
    this.write(false);
  }

  done(): void {
    if (this.shown && this.tty) this.write(true);
  }

  private write(final: boolean): void {
    this.shown = true;
    const seconds = (Date.now() - this.start) / 1000;
    const rate = mib(this.received / Math.max(seconds, 0.001));
    const amount = this.total
      ? `${mib(this.received)} / ${mib(this.total)} MiB (${Math.floor((100 * this.received) / this.total)}%)`
      : `${mib(this.received)} MiB`;
    const line = `downloading ${basename(this.url)}: ${amount}, ${rate} MiB/s`;
    if (this.tty) process.stderr.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
    else process.stderr.write(`${line}\n`);
  }
}

function mib(bytes: number): string {
  return (bytes / (1 << 20)).toFixed(1);
}

function urlBasename(url: string): string | undefined {
  try {
    const name = basename(decodeURIComponent(new URL(url).pathname));
    return name && name !== '/' ? name : undefined;
  } catch {
    return undefined;
  }
}

/** Mirror directories in search order, without duplicates. */
export function mirrorDirs(ctx: Context, extra: string[] = []): string[] {
  // a setup script may have set a single directory as a string
  const fromArgs = ctx.sourceMirrors as string[] | string;
  const fromEnv = (process.env[MIRROR_ENV] ?? '').split(delimiter);
  const all = [...extra, ...(typeof fromArgs === 'string' ? [fromArgs] : fromArgs), ...fromEnv];
  const dirs: string[] = [];
  for (const dir of all) {
    if (!dir) continue;
    const abs = resolve(dir);
    if (!dirs.includes(abs)) dirs.push(abs);
  }
  return dirs;
}

interface IndexEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}
type MirrorIndex = Record<string, IndexEntry>;

/** Digests already computed in this process, for mirrors where no index can be written. */
const memo = new Map<string, string>();

/**
 * A file in `dir` whose sha256 is `expected`, or undefined. Tries `preferredName` first, then
 * every other regular file (of size `size`, when known). Digests are cached in the
 * directory's index file (keyed by name, size and mtime) when the directory is writable.
 */
async function findInMirror(
  ctx: Context,
  dir: string,
  expected: string,
  preferredName: string | undefined,
  size: number | undefined,
  mismatches: string[],
  skip: ReadonlySet<string> = new Set(),
): Promise<string | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name);
  } catch (err) {
    ctx.log.warning(`source mirror ${dir} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); skipping it`);
    return undefined;
  }
  names = names.filter((n) => n !== MIRROR_INDEX && !/^\..*\.part-\d+-[0-9a-f]+$/.test(n));
  const ordered = preferredName && names.includes(preferredName) ? [preferredName, ...names.filter((n) => n !== preferredName)] : names;

  const index = await readIndex(dir);
  let changed = false;
  let match: string | undefined;
  for (const name of ordered) {
    const path = join(dir, name);
    if (skip.has(path)) continue;
    const st = await stat(path).catch(() => null);
    if (!st || !st.isFile()) continue;
    if (size !== undefined && st.size !== size) {
      if (name === preferredName) mismatches.push(`${path} of ${st.size} bytes (expected ${size})`);
      continue;
    }
    const key = `${path}\0${st.size}\0${st.mtimeMs}`;
    const cached = index[name];
    let digest = cached && cached.size === st.size && cached.mtimeMs === st.mtimeMs ? cached.sha256 : memo.get(key);
    if (!digest) {
      ctx.log.debug(`hashing mirror file ${path}`);
      digest = await sha256File(path);
      memo.set(key, digest);
      index[name] = { size: st.size, mtimeMs: st.mtimeMs, sha256: digest };
      changed = true;
    }
    if (digest === expected) {
      match = path;
      break;
    }
    if (name === preferredName) {
      ctx.log.warning(`ignoring mirror file ${path}: its sha256 is ${digest}, expected ${expected}`);
      mismatches.push(`${path} with sha256 ${digest}`);
    }
  }
  if (changed) await writeIndex(ctx, dir, index, new Set(names));
  return match;
}

/** Hashes a mirror file again and records its digest in this process and in the mirror's index. */
async function reindex(ctx: Context, dir: string, path: string): Promise<void> {
  for (const key of memo.keys()) if (key.startsWith(`${path}\0`)) memo.delete(key);
  const st = await stat(path).catch(() => null);
  if (!st) return;
  const sha256 = await sha256File(path);
  memo.set(`${path}\0${st.size}\0${st.mtimeMs}`, sha256);
  const index = await readIndex(dir);
  index[basename(path)] = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
  await writeIndex(ctx, dir, index, new Set(Object.keys(index)));
}

async function readIndex(dir: string): Promise<MirrorIndex> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, MIRROR_INDEX), 'utf8')) as { files?: Partial<MirrorIndex> };
    const files = parsed.files ?? {};
    const index: MirrorIndex = {};
    for (const [name, e] of Object.entries(files)) {
      if (e && typeof e.size === 'number' && typeof e.mtimeMs === 'number' && isSha256(e.sha256)) index[name] = e;
    }
    return index;
  } catch {
    return {}; // absent or damaged: it is only a cache
  }
}

async function writeIndex(ctx: Context, dir: string, index: MirrorIndex, present: Set<string>): Promise<void> {
  const files: MirrorIndex = {};
  for (const name of Object.keys(index).sort()) if (present.has(name)) files[name] = index[name]!;
  const tmp = join(dir, `.${MIRROR_INDEX}.part-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(tmp, JSON.stringify({ version: 1, files }, null, 1) + '\n');
    await rename(tmp, join(dir, MIRROR_INDEX));
  } catch (err) {
    // read-only mirrors are normal (a CD, a shared directory); the in-process memo still helps
    ctx.log.debug(`not caching digests in ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    await rm(tmp, { force: true }).catch(() => {});
  }
}
