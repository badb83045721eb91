import { ProgramSuite } from '../program.js';
import { bzip2 } from './bzip2.js';
import { lua } from './lua.js';
import { lz4 } from './lz4.js';
import { sqlite } from './sqlite.js';
import { zstd } from './zstd.js';

export { bzip2, lua, lz4, sqlite, zstd };

/** Named sets for `--benchmarks` (besides `all` and the program names). */
export const OPENSOURCE_SETS: Record<string, string[]> = {
  compressors: ['bzip2', 'zstd', 'lz4'],
  interpreters: ['lua'],
  databases: ['sqlite'],
};

/**
 * Real open-source programs built from their upstream release tarballs: bzip2, Lua (bundled
 * scripts), SQLite (speedtest1), zstd and lz4. Every workload's output is verified on each
 * execution. Sources can come from an offline mirror (`--source-mirror DIR`); fill one with
 * `scripts/fetch-sources.sh DIR`.
 */
export class OpenSourceSuite extends ProgramSuite {
  constructor(options: { name?: string } = {}) {
    super({ name: options.name ?? 'opensource', programs: [bzip2, lua, sqlite, zstd, lz4], sets: OPENSOURCE_SETS });
  }
}
