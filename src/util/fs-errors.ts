import { readFileSync, statfsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { UserError } from '../core/errors.js';

/**
 * File-system errors are the user's environment (a full disk, a read-only mount, a file where
 * a directory belongs), not bugs: these turn them into messages that say what happened where.
 */

const WORDS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the file system',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the file system is mounted read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a file that is not a directory is in the way',
  EISDIR: 'it is a directory',
  // from mkdir -p: a file where a directory belongs
  EEXIST: 'a file that is not a directory is in the way',
  ENOENT: 'no such file or directory',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  EIO: 'input/output error',
};

/** Errors that mean nothing more can be written there: a run stops at once on these. */
export const NO_SPACE_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EROFS']);

export function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether `err` is a file-system error that {@link fsUserError} can explain. */
export function isFsError(err: unknown): err is NodeJS.ErrnoException {
  const code = errnoCode(err);
  return code !== undefined && code in WORDS;
}

/**
 * A UserError for `err` if it is a file-system error: `<doing> <path>: <what happened> (CODE)`,
 * plus the file system holding `path` when it is full or read-only; otherwise `err` unchanged.
 */
export function fsUserError(err: unknown, doing: string, path: string, hint = ''): unknown {
  if (!isFsError(err)) return err;
  const code = err.code!;
  const where = NO_SPACE_CODES.has(code) ? ` (${describeFileSystem(path)})` : '';
  return new UserError(`${doing} ${path}: ${WORDS[code]} (${code})${where}${hint ? `; ${hint}` : ''}`, { cause: err });
}

/** "the tmpfs file system mounted at /mnt/x, 0 bytes free" (as far as /proc/self/mountinfo says). */
export function describeFileSystem(path: string): string {
  const mount = mountOf(path);
  const free = freeBytes(path);
  const what = mount ? `the ${mount.type} file system mounted at ${mount.point}` : 'its file system';
  return free === null ? what : `${what}, ${formatBytes(free)} free`;
}

/** Bytes this process may still write on the file system holding `path` (null if unknown). */
export function freeBytes(path: string): number | null {
  try {
    const st = statfsSync(path);
    // some file systems (FUSE without statfs) say nothing: no size at all
    if (st.blocks === 0) return null;
    // root may use the blocks reserved for it
    const blocks = process.getuid?.() === 0 ? st.bfree : st.bavail;
    return blocks * st.bsize;
  } catch {
    return null;
  }
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(0)} KiB`;
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

/** The mount point and type of the longest mount that contains `path`. */
function mountOf(path: string): { point: string; type: string } | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return null;
  }
  const abs = resolve(path);
  let best: { point: string; type: string } | null = null;
  for (const line of text.split('\n')) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    const point = fields[4]?.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (!point || dash < 0) continue;
    const inside = point === '/' || abs === point || abs.startsWith(point + sep);
    if (inside && (!best || point.length >= best.point.length)) best = { point, type: fields[dash + 1] ?? '?' };
  }
  return best;
}

/**
 * Writes `text` to `file` (creating its directory) through a temporary file beside it, so the
 * file is complete or untouched; a file-system error is a UserError starting with `doing`.
 */
export async function writeWhole(file: string, text: string | Uint8Array, doing = 'cannot write'): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`);
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(temp, text);
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true }).catch(() => {});
    throw fsUserError(e, doing, file);
  }
}
