import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { readRecords } from './read.js';
import { executionKey, META_FILE, RECORDS_FILE, type ExecutionRecord, type RunMeta } from './schema.js';

/** An open results directory that executions are recorded in. */
export interface RunDirectory {
  /** Absolute path of `results/run.<stamp>`. */
  readonly path: string;
  readonly meta: RunMeta;
  /** Appends one record as one line, with one write (a crash never leaves half a record before it). */
  append(record: ExecutionRecord): void;
  /** Rewrites meta.json (atomically). */
  saveMeta(): void;
  /** Marks the run complete: clears `interrupted` and sets `finishedAt`. */
  finish(): void;
}

/** `run.YYYY-MM-DD.HH-MM-SS` in local time. */
export function runDirName(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `run.${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}` +
    `.${p(date.getHours())}-${p(date.getMinutes())}-${p(date.getSeconds())}`
  );
}

/**
 * Creates `<resultsRoot>/run.<stamp>/` (with a `.2`, `.3`... suffix if a run started in the same
 * second), writes meta.json marked `interrupted` until {@link RunDirectory.finish}, and points
 * `<resultsRoot>/last` at it.
 */
export function createRunDirectory(resultsRoot: string, meta: RunMeta, now = new Date()): RunDirectory {
  mkdirSync(resultsRoot, { recursive: true });
  const name = runDirName(now);
  let path = join(resultsRoot, name);
  for (let n = 2; ; n++) {
    try {
      mkdirSync(path); // not recursive: fails if another run took this name
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      path = join(resultsRoot, `${name}.${n}`);
    }
  }
  const dir = openDirectory(path, { ...meta, interrupted: true });
  dir.saveMeta();
  writeFileSync(join(path, RECORDS_FILE), '', { flag: 'a' });
  updateLastLink(resultsRoot, basename(path));
  return dir;
}

/** Points `<resultsRoot>/last` at `name` atomically (a new symlink renamed over the old one). */
export function updateLastLink(resultsRoot: string, name: string): void {
  const last = join(resultsRoot, 'last');
  const temp = `${last}.tmp-${process.pid}-${Date.now()}`;
  symlinkSync(name, temp);
  try {
    renameSync(temp, last);
  } catch (e) {
    unlinkSync(temp);
    throw e;
  }
}

export interface ResumedRun {
  dir: RunDirectory;
  records: ExecutionRecord[];
  /** `executionKey`s of executions that succeeded; only the others need to run again. */
  completed: Set<string>;
}

/**
 * Reopens an existing run directory to add the executions that are missing or did not succeed.
 * The run is marked interrupted again until it finishes. A torn last line of records.jsonl is
 * skipped with a warning and, so the next record starts on its own line, ended with a newline.
 */
export function openRunForResume(path: string, log?: Logger): ResumedRun {
  const meta = readRunMeta(path);
  const { records } = readRecords(path, log);
  const recordsFile = join(path, RECORDS_FILE);
  if (existsSync(recordsFile)) {
    const text = readFileSync(recordsFile, 'utf8');
    if (text.length && !text.endsWith('\n')) appendFileSync(recordsFile, '\n');
  }
  // the last record of each execution counts: one cut short by an interrupt and run again is complete
  const completed = new Set(records.filter((r) => r.status === 'ok').map(executionKey));
  const dir = openDirectory(path, { ...meta, interrupted: true });
  delete dir.meta.finishedAt;
  dir.saveMeta();
  return { dir, records, completed };
}

/** The meta.json of a run directory; a UserError if `path` is not one. */
export function readRunMeta(path: string): RunMeta {
  const metaFile = join(path, META_FILE);
  if (!existsSync(metaFile)) {
    throw new UserError(`cannot resume '${path}': it is not a results directory (no ${META_FILE})`);
  }
  try {
    return JSON.parse(readFileSync(metaFile, 'utf8')) as RunMeta;
  } catch (e) {
    throw new UserError(`cannot resume '${path}': ${META_FILE} is not valid JSON (${(e as Error).message})`);
  }
}

function openDirectory(path: string, meta: RunMeta): RunDirectory {
  const recordsFile = join(path, RECORDS_FILE);
  const metaFile = join(path, META_FILE);
  const dir: RunDirectory = {
    path,
    meta,
    append(record) {
      appendFileSync(recordsFile, JSON.stringify(record) + '\n');
    },
    saveMeta() {
      const temp = `${metaFile}.tmp-${process.pid}`;
      writeFileSync(temp, JSON.stringify(dir.meta, null, 2) + '\n');
      renameSync(temp, metaFile);
    },
    finish() {
      delete dir.meta.interrupted;
      dir.meta.finishedAt = new Date().toISOString();
      dir.saveMeta();
    },
  };
  return dir;
}
