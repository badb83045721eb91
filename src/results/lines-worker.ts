/**
 * A worker thread's part of reading a large records.jsonl (read-lines.ts): the lines of one
 * byte range as columns, sent back with their arrays transferred rather than copied.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readLinesAsColumns } from './parse-records.js';

const { file, from, to } = workerData as { file: string; from: number; to: number };
const part = readLinesAsColumns(file, from, to);
const { columns, ...rest } = part;
const arrays = new Set(
  [...columns.keys.values(), ...columns.fields.values()].map((c) => (c.kind === 'number' ? c.values : c.codes).buffer as ArrayBuffer),
);
parentPort!.postMessage({ ...rest, length: columns.length, keys: [...columns.keys], fields: [...columns.fields] }, [...arrays]);
