import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { META_FILE, type RunMeta } from './schema.js';

/** A run directory's meta.json, as read for a report. */
export interface RunInfo {
  /** The run directory as given or found. */
  dir: string;
  /** Absent when the directory has no readable meta.json (older or hand-made results). */
  meta?: RunMeta;
}

/**
 * Reads the meta.json of a run directory (or of the directory of a records.jsonl file);
 * a missing or unreadable file gives no meta rather than an error, since the records are
 * what a report needs.
 */
export function readRunInfo(path: string): RunInfo {
  const dir = existsSync(path) && statSync(path).isFile() ? dirname(path) : path;
  const file = join(dir, META_FILE);
  if (!existsSync(file)) return { dir };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return { dir };
  }
  if (!parsed || typeof parsed !== 'object') return { dir };
  const m = parsed as Partial<RunMeta>;
  // older or hand-written files may lack parts; a report shows them as unknown
  return {
    dir,
    meta: {
      ...m,
      argv: Array.isArray(m.argv) ? m.argv : [],
      project: m.project ?? { gitCommit: null, gitDirty: null },
      host: { ...UNKNOWN_HOST, ...m.host },
      instances: Array.isArray(m.instances) ? m.instances : [],
      tool: m.tool ?? { name: 'unknown', version: '' },
    } as RunMeta,
  };
}

const UNKNOWN_HOST: RunMeta['host'] = {
  hostname: 'unknown',
  cpuModel: 'unknown',
  cores: 0,
  memoryBytes: 0,
  kernel: 'unknown',
  thp: null,
  aslr: null,
  governor: null,
};
