import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rename, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import { run } from '../exec/run.js';
import { removeAbandoned } from './download.js';
import { requireProgram } from './programs.js';

/** Options of {@link extractArchive}. */
export interface ExtractOptions {
  /** Leading path components dropped from every entry, like `tar --strip-components`. Default 0. */
  stripComponents?: number;
  /** Replace a non-empty `destDir` (default: that is an error; an empty one is always replaced). */
  replace?: boolean;
}

interface Format {
  suffixes: string[];
  kind: 'tar' | 'zip';
  /** tar's flag for the compression, and the program tar needs for it. */
  tarFlag?: string;
  program?: { name: string; debianPackage: string };
}

/** Supported archive kinds, recognised by file name. */
const FORMATS: Format[] = [
  { suffixes: ['.tar.gz', '.tgz'], kind: 'tar', tarFlag: '-z', program: { name: 'gzip', debianPackage: 'gzip' } },
  { suffixes: ['.tar.xz', '.txz'], kind: 'tar', tarFlag: '-J', program: { name: 'xz', debianPackage: 'xz-utils' } },
  { suffixes: ['.tar.bz2', '.tbz2', '.tbz'], kind: 'tar', tarFlag: '-j', program: { name: 'bzip2', debianPackage: 'bzip2' } },
  { suffixes: ['.tar.zst', '.tzst'], kind: 'tar', tarFlag: '--zstd', program: { name: 'zstd', debianPackage: 'zstd' } },
  { suffixes: ['.tar'], kind: 'tar' },
  { suffixes: ['.zip'], kind: 'zip', program: { name: 'unzip', debianPackage: 'unzip' } },
];

type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'special';

interface Entry {
  name: string;
  type: EntryType;
  /** Symlink target (relative to the link's directory) or hardlink target (an archive member name). */
  target?: string;
}

/**
 * Extracts a .tar(.gz|.xz|.bz2|.zst), .tgz or .zip archive into `destDir` with the system's
 * tar or unzip. Every entry is listed and checked first: an absolute name, a `..` that leaves
 * `destDir`, a link whose target leaves it, an entry written through a link, or a device
 * file is refused with a UserError before anything is created. Extraction happens in a
 * temporary directory beside `destDir` that is renamed into place at the end, so an
 * interrupted extraction never leaves a half-filled `destDir`.
 */
export async function extractArchive(ctx: Context, archive: string, destDir: string, options: ExtractOptions = {}): Promise<void> {
  const strip = options.stripComponents ?? 0;
  if (!Number.isInteger(strip) || strip < 0) {
    throw new UserError(`stripComponents must be a non-negative integer, not ${strip}`);
  }
  archive = resolve(ctx.paths.root, archive);
  destDir = resolve(ctx.paths.root, destDir);
  const format = formatOf(archive);
  if (ctx.dryRun) {
    process.stdout.write(`extract ${archive} -> ${destDir}${strip ? ` (strip ${strip})` : ''}\n`);
    return;
  }
  if (!existsSync(archive)) throw new UserError(`archive not found: ${archive}`);
  const destState = await destinationState(destDir);
  if (destState === 'full' && !options.replace) {
    throw new UserError(`cannot extract ${archive}: ${destDir} already exists and is not empty; remove it first`);
  }
  requireProgram(
    ctx,
    format.kind === 'zip' ? 'zipinfo' : 'tar',
    format.kind === 'zip' ? 'install it (e.g. apt-get install unzip)' : undefined,
  );
  if (format.program) {
    requireProgram(ctx, format.program.name, `install it (e.g. apt-get install ${format.program.debianPackage})`);
  }

  const entries = format.kind === 'tar' ? await listTar(ctx, archive, format) : await listZip(ctx, archive);
  checkEntries(archive, entries, strip, format.kind === 'tar');

  await mkdir(dirname(destDir), { recursive: true });
  await removeAbandoned(dirname(destDir), `.${basename(destDir)}.extract-`);
  const tmp = join(dirname(destDir), `.${basename(destDir)}.extract-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp);
  try {
    if (format.kind === 'tar') {
      const stripArgs = strip ? [`--strip-components=${strip}`] : [];
      await run(
        ctx,
        ['tar', '-x', ...(format.tarFlag ? [format.tarFlag] : []), '-f', archive, '-C', tmp, '--no-same-owner', ...stripArgs],
        {
          cwd: tmp,
        },
      );
    } else {
      await extractZip(ctx, archive, tmp, entries, strip);
    }
    await moveIntoPlace(tmp, destDir, destState);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The archive format for a file name, or a UserError listing the supported ones. */
function formatOf(archive: string): Format {
  const lower = archive.toLowerCase();
  const format = FORMATS.find((f) => f.suffixes.some((s) => lower.endsWith(s)));
  if (!format) {
    const all = FORMATS.flatMap((f) => f.suffixes).join(', ');
    throw new UserError(`unsupported archive type: ${archive}; supported: ${all}`);
  }
  return format;
}

async function destinationState(destDir: string): Promise<'absent' | 'empty' | 'full'> {
  const st = await lstat(destDir).catch(() => null);
  if (!st) return 'absent';
  if (!st.isDirectory()) return 'full';
  return (await readdir(destDir)).length === 0 ? 'empty' : 'full';
}

async function moveIntoPlace(tmp: string, destDir: string, state: 'absent' | 'empty' | 'full'): Promise<void> {
  if (state === 'absent') {
    await rename(tmp, destDir).catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      throw new UserError(`${destDir} was filled by another process while extracting into it; remove it and retry`);
    });
    return;
  }
  if (state === 'empty') {
    await rmdir(destDir);
    await rename(tmp, destDir);
    return;
  }
  const aside = `${tmp}.old`;
  await rename(destDir, aside);
  await rename(tmp, destDir);
  await rm(aside, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------
// Listing

/** Lists a tarball with `tar -tv`, written to an index file so huge listings are never truncated. */
async function listTar(ctx: Context, archive: string, format: Format): Promise<Entry[]> {
  const scratch = await mkdtemp(join(tmpdir(), 'infra-list-'));
  try {
    const indexFile = join(scratch, 'list');
    await run(
      ctx,
      // --absolute-names: show names and link targets as stored, not with tar's own repairs
      [
        'tar',
        '-t',
        '-v',
        ...(format.tarFlag ? [format.tarFlag] : []),
        '-f',
        archive,
        `--index-file=${indexFile}`,
        '--absolute-names',
        '--quoting-style=c',
        '--numeric-owner',
        '--full-time',
      ],
      { cwd: dirname(archive), silent: true, env: { LC_ALL: 'C' } },
    );
    const text = await readFile(indexFile, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((line) => parseTarLine(archive, line));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

const TAR_TYPES: Record<string, EntryType> = {
  '-': 'file',
  C: 'file',
  S: 'file',
  d: 'dir',
  D: 'dir',
  l: 'symlink',
  h: 'hardlink',
  c: 'special',
  b: 'special',
  p: 'special',
  s: 'special',
};

/** One line of `tar -tv --quoting-style=c`: `drwxr-xr-x 0/0 0 2024-01-01 00:00:00 "name" -> "target"`. */
export function parseTarLine(archive: string, line: string): Entry {
  const open = line.indexOf('"');
  if (open < 0) throw new UserError(`cannot understand tar's listing of ${archive}: ${line}`);
  const [name, afterName] = readCString(line, open);
  const type = TAR_TYPES[line[0]!] ?? 'special';
  const rest = line.slice(afterName);
  const link = /^ (->|link to) "/.exec(rest);
  const entry: Entry = { name, type };
  if (link) entry.target = readCString(rest, link[0].length - 1)[0];
  if ((type === 'symlink' || type === 'hardlink') && entry.target === undefined) {
    throw new UserError(`cannot understand tar's listing of ${archive}: ${line}`);
  }
  return entry;
}

const C_ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11, '\\': 92, '"': 34, '?': 63 };

/** Reads a C-quoted string starting at the opening quote; returns it and the index after the closing quote. */
function readCString(s: string, openQuote: number): [string, number] {
  const close = s.indexOf('"', openQuote + 1);
  const escape = s.indexOf('\\', openQuote + 1);
  if (close >= 0 && (escape < 0 || escape > close)) return [s.slice(openQuote + 1, close), close + 1];
  const bytes: number[] = [];
  let i = openQuote + 1;
  while (i < s.length && s[i] !== '"') {
    if (s[i] === '\\') {
      const oct = /^[0-7]{1,3}/.exec(s.slice(i + 1, i + 4));
      if (oct) {
        bytes.push(parseInt(oct[0], 8));
        i += 1 + oct[0].length;
        continue;
      }
      bytes.push(C_ESCAPES[s[i + 1]!] ?? s.charCodeAt(i + 1));
      i += 2;
      continue;
    }
    bytes.push(...Buffer.from(s[i]!, 'utf8'));
    i++;
  }
  return [Buffer.from(bytes).toString('utf8'), i + 1];
}

/** Lists a zip with `zipinfo`; the entry count in its header guards against a cut-off listing. */
async function listZip(ctx: Context, archive: string): Promise<Entry[]> {
  const result = await run(ctx, ['zipinfo', archive], { cwd: dirname(archive), silent: true, allowError: true, env: { LC_ALL: 'C' } });
  const declared = /number of entries: (\d+)/.exec(result.stdout);
  if (/^Empty zipfile\./m.test(result.stdout)) return [];
  if (result.exitCode !== 0 || !declared) {
    throw new UserError(`cannot list zip archive ${archive}:\n${result.output.trim()}`);
  }
  const entries: Entry[] = [];
  for (const line of result.stdout.split('\n')) {
    const m = /^(\S{7,10})\s+\S+\s+\S+\s+\d+\s+\S+\s+\S+\s+\S+\s+\S+ (.*)$/.exec(line);
    if (!m) continue;
    const mode = m[1]!;
    const name = m[2]!;
    const type: EntryType =
      mode[0] === 'l' ? 'symlink' : mode[0] === 'd' || name.endsWith('/') ? 'dir' : mode[0] === '-' || mode[0] === '?' ? 'file' : 'special';
    entries.push({ name, type });
  }
  if (entries.length !== Number(declared[1])) {
    throw new UserError(`cannot list zip archive ${archive}: read ${entries.length} of ${declared[1]} entries`);
  }
  return entries;
}

// ---------------------------------------------------------------------------------------
// Checks

type Walk = { path: string } | { problem: string };

/**
 * Resolves path components lexically against the extraction root. `..` may not climb above
 * the root, nor follow a symlink (whose real parent is unknown); passing through a symlink is
 * allowed only when `throughLinks` is set (for link targets, never for entries being written).
 */
function walk(components: string[], symlinks: Set<string>, throughLinks: boolean): Walk {
  const stack: string[] = [];
  for (const c of components) {
    if (c === '' || c === '.') continue;
    const here = stack.join('/');
    if (stack.length && symlinks.has(here)) {
      if (c === '..') return { problem: `'..' after the symlink '${here}'` };
      if (!throughLinks) return { problem: `it lies under the symlink '${here}'` };
    }
    if (c === '..') {
      if (!stack.length) return { problem: 'it leaves the destination directory' };
      stack.pop();
    } else {
      stack.push(c);
    }
  }
  return { path: stack.join('/') };
}

function splitName(name: string, isTar: boolean): string[] {
  // unzip may read a backslash as a separator, so zip names are split on both
  return isTar ? name.split('/') : name.split(/[\\/]/);
}

/** Strips leading components as tar does (empty ones do not count); null when nothing is left. */
function stripped(components: string[], strip: number): string[] | null {
  const nonEmpty = components.filter((c) => c !== '');
  return nonEmpty.length > strip ? nonEmpty.slice(strip) : null;
}

/** Throws a UserError for the first entry that could write outside the destination. */
export function checkEntries(archive: string, entries: Entry[], strip: number, isTar: boolean): void {
  const refuse = (e: Entry, why: string): never => {
    throw new UserError(`refusing to extract ${archive}: unsafe entry '${e.name}': ${why}`);
  };
  const symlinks = new Set<string>();
  const kept: Array<{ entry: Entry; components: string[] }> = [];
  for (const entry of entries) {
    if (entry.name.startsWith('/') || (!isTar && /^([A-Za-z]:)?[\\/]/.test(entry.name))) refuse(entry, 'absolute path');
    const components = stripped(splitName(entry.name, isTar), strip);
    if (!components) continue; // tar skips entries consumed entirely by stripping
    const where = walk(components, new Set(), false);
    if ('problem' in where) refuse(entry, where.problem);
    kept.push({ entry, components });
    if (entry.type === 'symlink' && 'path' in where) symlinks.add(where.path);
  }
  for (const { entry, components } of kept) {
    if (entry.type === 'special') refuse(entry, 'device, socket or fifo entries are not extracted');
    // the entry itself may be a symlink, but nothing may be written through one
    const where = walk(components, symlinks, false);
    if ('problem' in where) refuse(entry, where.problem);
    if (entry.type === 'symlink' && entry.target !== undefined) checkSymlink(entry, components, symlinks, refuse);
    if (entry.type === 'hardlink') {
      const target = entry.target ?? '';
      if (target.startsWith('/')) refuse(entry, `hard link to the absolute path '${target}'`);
      const targetComponents = stripped(target.split('/'), strip) ?? [];
      const resolved = walk(targetComponents, symlinks, false);
      if ('problem' in resolved) refuse(entry, `hard link target '${target}': ${resolved.problem}`);
      // a hard link to a symlink is a second symlink somewhere else, with an unchecked meaning
      if ('path' in resolved && symlinks.has(resolved.path)) refuse(entry, `hard link to the symlink '${target}'`);
    }
  }
}

function checkSymlink(entry: Entry, components: string[], symlinks: Set<string>, refuse: (e: Entry, why: string) => never): void {
  const target = entry.target!;
  if (target.startsWith('/')) refuse(entry, `symlink to the absolute path '${target}'`);
  const resolved = walk([...components.slice(0, -1), ...target.split('/')], symlinks, true);
  if ('problem' in resolved) refuse(entry, `symlink target '${target}': ${resolved.problem}`);
}

// ---------------------------------------------------------------------------------------
// Zip extraction

async function extractZip(ctx: Context, archive: string, tmp: string, entries: Entry[], strip: number): Promise<void> {
  // unzip cannot strip components: with stripping, extract beside tmp and move the kept part
  const raw = strip ? `${tmp}.unzip` : tmp;
  await mkdir(raw, { recursive: true });
  try {
    await unzipInto(ctx, archive, raw, entries, strip);
    if (strip) await hoist(raw, tmp, strip);
  } finally {
    if (strip) await rm(raw, { recursive: true, force: true });
  }
}

async function unzipInto(ctx: Context, archive: string, raw: string, entries: Entry[], strip: number): Promise<void> {
  const result = await run(ctx, ['unzip', '-q', '-o', archive, '-d', raw], { cwd: raw, allowError: true });
  // status 1 means warnings only; anything else is a failure
  if (result.exitCode !== 0 && result.exitCode !== 1) {
    throw new UserError(`unzip failed on ${archive} (exit status ${result.exitCode}):\n${result.output.trim()}`);
  }
  // zipinfo does not show link targets: check the links unzip made (it creates them last)
  if (entries.some((e) => e.type === 'symlink')) {
    const links = await collectSymlinks(raw);
    checkEntries(archive, links, strip, true);
  }
}

async function collectSymlinks(root: string, rel = ''): Promise<Entry[]> {
  const found: Entry[] = [];
  for (const d of await readdir(join(root, rel), { withFileTypes: true })) {
    const path = rel ? `${rel}/${d.name}` : d.name;
    if (d.isSymbolicLink()) found.push({ name: path, type: 'symlink', target: await readlink(join(root, path)) });
    else if (d.isDirectory()) found.push(...(await collectSymlinks(root, path)));
  }
  return found;
}

/** Moves everything `depth` levels below `from` into `to`, merging directories that meet. */
async function hoist(from: string, to: string, depth: number): Promise<void> {
  for (const d of await readdir(from, { withFileTypes: true })) {
    const src = join(from, d.name);
    if (depth > 0) {
      if (d.isDirectory()) await hoist(src, to, depth - 1);
      continue; // files above the stripped depth are dropped, as tar does
    }
    const dst = join(to, d.name);
    const existing = await lstat(dst).catch(() => null);
    if (existing?.isDirectory() && d.isDirectory()) await hoist(src, dst, 0);
    else {
      if (existing) await rm(dst, { recursive: true, force: true });
      await rename(src, dst);
    }
  }
}
