/**
 * Reads byte ranges of a records.jsonl as columns, a large range in parts on worker threads
 * (one per core, up to four): parsing the lines is almost all of the time a first report of a
 * file without column blocks takes (6 s for a million records on one core), and the parts are
 * independent. A part ends after a newline, so each holds whole lines; a worker that fails
 * (cannot start, runs out of memory) costs only time: its part is read on this thread.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../core/log.js';
import { RecordColumns, type Column, type KeyColumn } from './columns.js';
import { joinParts, readLinesAsColumns, type LinesPart } from './parse-records.js';

/** A range is read in parts from this size on (about 36,000 records); below it, on this thread. */
export const PART_BYTES = 16 << 20;
const MAX_THREADS = 4;

// beside this module: a chunk of dist/ in the package, src/results/ when run from the sources
const WORKER = new URL(import.meta.url.endsWith('.ts') ? './lines-worker.ts' : './lines-worker.js', import.meta.url);

/**
 * The lines of bytes `from` to `to` of `file` (starting at a line) as columns; `partBytes` is
 * the size from which the range is read in parts.
 */
export async function readLineRange(file: string, from: number, to: number, log?: Logger, partBytes = PART_BYTES): Promise<LinesPart> {
  const threads = Math.min(availableParallelism(), MAX_THREADS);
  const parts =
    threads > 1 && to - from >= partBytes
      ? splitAtLines(file, from, to, Math.min(threads, Math.ceil((to - from) / partBytes)))
      : [[from, to] as const];
  if (parts.length > 1)
    log?.debug(`reading bytes ${from}-${to} of ${file} in ${parts.length} parts, ${parts.length - 1} on worker threads`);
  // the others on workers, started first; the first here meanwhile
  const others = parts.slice(1).map(([a, b]) => onWorker(file, a, b, log));
  const first = readLinesAsColumns(file, parts[0]![0], parts[0]![1]);
  return joinParts([first, ...(await Promise.all(others))]);
}

/** `count` ranges covering `[from, to)`, each but the last ending just after a newline. */
function splitAtLines(file: string, from: number, to: number, count: number): Array<readonly [number, number]> {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(64 << 10);
    const cuts = [from];
    for (let k = 1; k < count; k++) {
      // the first newline at or after an even share of the range, past the previous cut
      let at = Math.max(from + Math.floor(((to - from) * k) / count), cuts.at(-1)!);
      for (;;) {
        const got = readSync(fd, buf, 0, Math.min(buf.length, to - at), at);
        const nl = buf.subarray(0, got).indexOf(0x0a);
        if (nl >= 0) {
          at += nl + 1;
          break;
        }
        at += got;
        if (got === 0) break;
      }
      if (at >= to) break;
      cuts.push(at);
    }
    cuts.push(to);
    return cuts.slice(1).map((end, i) => [cuts[i]!, end] as const);
  } finally {
    closeSync(fd);
  }
}

/** A part read on a worker thread; on this one if the worker fails. */
function onWorker(file: string, from: number, to: number, log?: Logger): Promise<LinesPart> {
  return new Promise<LinesPart>((resolve) => {
    let done = false;
    const fallBack = (why: string) => {
      if (done) return;
      done = true;
      log?.debug(`reading bytes ${from}-${to} of ${file} on the main thread: the worker ${why}`);
      resolve(readLinesAsColumns(file, from, to));
    };
    let worker: Worker;
    try {
      worker = startWorker({ file, from, to });
    } catch (e) {
      fallBack(`did not start (${(e as Error).message})`);
      return;
    }
    worker.once('message', (m: PartMessage) => {
      done = true;
      resolve(fromMessage(m));
      void worker.terminate();
    });
    worker.once('error', (e) => fallBack(`failed (${e.message})`));
    worker.once('exit', (code) => fallBack(`exited with ${code}`));
  });
}

function startWorker(workerData: unknown): Worker {
  if (!WORKER.pathname.endsWith('.ts')) return new Worker(WORKER, { workerData });
  // run from the sources (the tests): a worker does not inherit the TypeScript loader, so it loads it first
  const loader = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(loader)}).then(({ register }) => { register(); return import(${JSON.stringify(WORKER.href)}); })`;
  return new Worker(code, { eval: true, workerData });
}

/** What a worker sends (lines-worker.ts). */
interface PartMessage extends Omit<LinesPart, 'columns'> {
  length: number;
  keys: Array<[KeyColumn, Column]>;
  fields: Array<[string, Column]>;
}

function fromMessage({ length, keys, fields, ...rest }: PartMessage): LinesPart {
  return { ...rest, columns: new RecordColumns(length, new Map(keys), new Map(fields), () => []) };
}
