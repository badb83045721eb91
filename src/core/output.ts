import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Context } from './context.js';

/** Options of {@link writeOutput}. */
export interface WriteOutputOptions {
  /** Leave the file alone (and its modification time too) when it already has this content. */
  ifChanged?: boolean;
}

/**
 * Writes a file a build or run produces (a generated Makefile, a config file, a stamp), making
 * its directory first. The file is replaced atomically, so a reader never sees half of it. On
 * `--dry-run` it prints `write FILE (N bytes)` and writes nothing.
 */
export function writeOutput(ctx: Context, path: string, data: string | Uint8Array, options: WriteOutputOptions = {}): void {
  if (ctx.dryRun) {
    process.stdout.write(`write ${path} (${Buffer.byteLength(data)} bytes)\n`);
    return;
  }
  if (options.ifChanged && sameContent(path, data)) return;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** Makes a directory and its parents; on `--dry-run` prints `mkdir -p DIR` instead. */
export function makeDirectory(ctx: Context, path: string): void {
  if (ctx.dryRun) {
    process.stdout.write(`mkdir -p ${path}\n`);
    return;
  }
  mkdirSync(path, { recursive: true });
}

/** Removes a file or directory tree if it exists; on `--dry-run` prints `rm -rf PATH` instead. */
export function removePath(ctx: Context, path: string): void {
  if (ctx.dryRun) {
    process.stdout.write(`rm -rf ${path}\n`);
    return;
  }
  rmSync(path, { recursive: true, force: true });
}

function sameContent(path: string, data: string | Uint8Array): boolean {
  try {
    return readFileSync(path).equals(typeof data === 'string' ? Buffer.from(data) : data);
  } catch {
    return false;
  }
}
