import {
  accessSync,
  appendFileSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { describeFileSystem, freeBytes, fsUserError, isFsError } from '../util/fs-errors.js';
import { BlockWriter } from './columns-blocks.js';
import { cellOf, type RecordColumns } from './columns.js';
import { readRecordColumnsFile } from './read.js';
import { executionKey, META_FILE, RECORDS_FILE, type ExecutionRecord, type RunMeta } from './schema.js';

/** An open results directory that executions are recorded in. */
export interface RunDirectory {
  /** Absolute path of `results/run.<stamp>`. */
  readonly path: string;
  readonly meta: RunMeta;
  /**
   * Appends one record as one line, whole or not at all: a write cut short (a full disk) is
   * rolled back and a {@link RecordingStopped} thrown.
   */
  append(record: ExecutionRecord): void;
  /**
   * Takes up a record that the measurement helper appended itself (`line`, with its newline,
   * at byte `at`): it is noted in the column blocks as if appended here. Only one process
   * appends at a time (see ExecutionBackend.appendRecord).
   */
  adopt(record: ExecutionRecord, line: string, at: number): void;
  /** The records file (records.jsonl), for a helper that appends to it. */
  readonly recordsFile: string;
  /** A {@link RecordingStopped} if the directory's file system has no space left, else null. */
  noSpaceLeft(): RecordingStopped | null;
  /** Rewrites meta.json (atomically). */
  saveMeta(): void;
  /** Writes what is still buffered (the last column block) and closes the records file. */
  close(): void;
  /** Marks the run complete ({@link close}, then clears `interrupted` and sets `finishedAt`). */
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
 * Nothing can be recorded in a run directory any more (its file system is full or read-only):
 * the run stops at once, and `run --resume` completes it once there is space.
 */
export class RecordingStopped extends UserError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'RecordingStopped';
  }
}

/**
 * Refuses, before a run writes anything, a results directory that cannot hold a new run:
 * `resultsRoot` or `<resultsRoot>/last` in the way (a file; `last` not a symbolic link), or a
 * directory that cannot be written.
 */
export function checkResultsRoot(resultsRoot: string): void {
  const root = statSync(resultsRoot, { throwIfNoEntry: false });
  if (root && !root.isDirectory()) {
    throw new UserError(`cannot write results to ${resultsRoot}: it is a file, not a directory; move it away or remove it`);
  }
  const last = join(resultsRoot, 'last');
  const link = lstatSync(last, { throwIfNoEntry: false });
  if (link && !link.isSymbolicLink()) {
    throw new UserError(
      `cannot point ${last} at a new run: it is a ${link.isDirectory() ? 'directory' : 'file'}, not the symbolic link infra keeps ` +
        `to the last run; move it away (e.g. mv ${last} ${last}.old) and run again`,
    );
  }
  let existing = resultsRoot;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  try {
    accessSync(existing, constants.W_OK);
  } catch (e) {
    throw fsUserError(e, 'cannot write results to', existing, 'give another project directory or fix its permissions');
  }
}

/**
 * Creates `<resultsRoot>/run.<stamp>/` (with a `.2`, `.3`... suffix if a run started in the same
 * second), writes meta.json marked `interrupted` until {@link RunDirectory.finish}, and points
 * `<resultsRoot>/last` at it. A file-system error is a UserError, and leaves no directory.
 */
export function createRunDirectory(resultsRoot: string, meta: RunMeta, now = new Date()): RunDirectory {
  checkResultsRoot(resultsRoot);
  let path: string | undefined;
  try {
    mkdirSync(resultsRoot, { recursive: true });
    path = newRunPath(resultsRoot, runDirName(now));
    const dir = openDirectory(path, { ...meta, interrupted: true });
    dir.saveMeta();
    writeFileSync(join(path, RECORDS_FILE), '', { flag: 'a' });
    updateLastLink(resultsRoot, basename(path));
    return dir;
  } catch (e) {
    if (path) rmSync(path, { recursive: true, force: true });
    throw fsUserError(e, 'cannot create a run directory in', resultsRoot);
  }
}

function newRunPath(resultsRoot: string, name: string): string {
  let path = join(resultsRoot, name);
  for (let n = 2; ; n++) {
    try {
      mkdirSync(path); // not recursive: fails if another run took this name
      return path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      path = join(resultsRoot, `${name}.${n}`);
    }
  }
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
  /** Executions recorded (the last record of each). */
  recorded: number;
  /** `executionKey`s of executions that succeeded; only the others need to run again. */
  completed: Set<string>;
}

/**
 * Reopens an existing run directory to add the executions that are missing or did not succeed.
 * The run is marked interrupted again until it finishes. A torn last line of records.jsonl is
 * skipped with a warning and, so the next record starts on its own line, ended with a newline.
 */
export async function openRunForResume(path: string, log?: Logger): Promise<ResumedRun> {
  const meta = readRunMeta(path);
  const recordsFile = join(path, RECORDS_FILE);
  // as columns (from the run's blocks where they hold): a long run's records as objects would
  // cost seconds and hundreds of MB before the first execution; no index, the file is about to grow
  const { columns } = existsSync(recordsFile) ? await readRecordColumnsFile(recordsFile, log, { index: false }) : { columns: null };
  if (existsSync(recordsFile) && !endsWithNewline(recordsFile)) {
    try {
      appendFileSync(recordsFile, '\n');
    } catch (e) {
      throw stopped(e, recordsFile);
    }
  }
  const dir = openDirectory(path, { ...meta, interrupted: true });
  delete dir.meta.finishedAt;
  dir.saveMeta();
  return { dir, recorded: columns?.length ?? 0, completed: columns ? completedExecutions(columns) : new Set() };
}

/** `executionKey`s of the executions whose (last) record says they succeeded. */
function completedExecutions(columns: RecordColumns): Set<string> {
  const completed = new Set<string>();
  const [target, instance, benchmark, iteration, status] = (['target', 'instance', 'benchmark', 'iteration', 'status'] as const).map((k) =>
    columns.keys.get(k),
  );
  if (!target || !instance || !benchmark || !iteration || !status) return completed;
  for (let row = 0; row < columns.length; row++) {
    if (cellOf(status, row) !== 'ok') continue;
    const key = {
      target: cellOf(target, row),
      instance: cellOf(instance, row),
      benchmark: cellOf(benchmark, row),
      iteration: cellOf(iteration, row),
    };
    completed.add(executionKey(key as Parameters<typeof executionKey>[0]));
  }
  return completed;
}

/** Whether a file is empty or ends with a newline: its last byte only (records files can be gigabytes). */
function endsWithNewline(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return true;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } finally {
    closeSync(fd);
  }
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
  // opened with the first record and kept open: each record is still one write() of its own;
  // its size is kept (the run's lock makes this the only writer), so a write cut short is
  // truncated away without a stat per record
  let records: { fd: number; size: number; blocks: BlockWriter } | undefined;
  // records are added to the column blocks once the event loop is free, not between a record
  // and the start of the next execution (in the order they were written)
  const unblocked: Array<[ExecutionRecord, Buffer, number]> = [];
  const addToBlocks = () => {
    for (const [record, line, at] of unblocked) records?.blocks.add(record, line, at);
    unblocked.length = 0;
  };
  const noteInBlock = (record: ExecutionRecord, line: Buffer, at: number) => {
    if (unblocked.push([record, line, at]) === 1) setImmediate(addToBlocks);
  };
  const open = () => {
    if (!records) {
      const fd = openSync(recordsFile, 'a');
      const size = fstatSync(fd).size;
      records = { fd, size, blocks: new BlockWriter(recordsFile, size) };
    }
    return records;
  };
  const dir: RunDirectory = {
    path,
    meta,
    recordsFile,
    append(record) {
      try {
        const file = open();
        const line = Buffer.from(JSON.stringify(record) + '\n');
        const at = file.size;
        file.size = appendWhole(file.fd, at, line);
        noteInBlock(record, line, at);
      } catch (e) {
        throw stopped(e, recordsFile);
      }
    },
    adopt(record, line, at) {
      try {
        const file = open();
        const bytes = Buffer.from(line);
        // written where this process would have (else the file's true size, read back)
        file.size = at === file.size ? at + bytes.length : fstatSync(file.fd).size;
        noteInBlock(record, bytes, at);
      } catch (e) {
        throw stopped(e, recordsFile);
      }
    },
    noSpaceLeft() {
      if (freeBytes(path) !== 0) return null;
      return new RecordingStopped(`no space left for the results in ${path} (${describeFileSystem(path)})`);
    },
    saveMeta() {
      const temp = `${metaFile}.tmp-${process.pid}`;
      try {
        writeFileSync(temp, JSON.stringify(dir.meta, null, 2) + '\n');
        renameSync(temp, metaFile);
      } catch (e) {
        // the previous meta.json stays as it was
        rmSync(temp, { force: true });
        throw stopped(e, metaFile);
      }
    },
    close() {
      if (records === undefined) return;
      addToBlocks();
      records.blocks.close();
      closeSync(records.fd);
      records = undefined;
    },
    finish() {
      dir.close();
      delete dir.meta.interrupted;
      dir.meta.finishedAt = new Date().toISOString();
      dir.saveMeta();
    },
  };
  return dir;
}

/**
 * One write of `data` at the end of the file open (for appending) as `fd`, of `size` bytes,
 * or none: a write cut short is truncated away. Returns the new size.
 */
function appendWhole(fd: number, size: number, data: Buffer): number {
  try {
    for (let done = 0; done < data.length;) done += writeSync(fd, data, done);
  } catch (e) {
    ftruncateSync(fd, size);
    throw e;
  }
  return size + data.length;
}

/** A file-system error while writing a run's files stops the run; anything else is a bug. */
function stopped(e: unknown, file: string): unknown {
  if (!isFsError(e)) return e;
  const error = fsUserError(e, 'cannot write', file) as UserError;
  return new RecordingStopped(error.message, { cause: e });
}
