import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../api.js';
import { CWE_ALIASES, FAMILY_RULES, type JulietFamily, UNSUPPORTED_VARIANTS } from './cwes.js';

/** A source file of a test case and which of its programs it belongs to. */
export interface JulietFile {
  path: string;
  /** `both` (single-file and multi-file `a`, `b`... parts), or only `bad` (`_bad.cpp`) or `good` (`_good1.cpp`...). */
  program: 'both' | 'bad' | 'good';
}

/** One Juliet test case: the files that together make its good and its bad program. */
export interface JulietTestCase {
  /** `CWE416_Use_After_Free__malloc_free_char_01` */
  name: string;
  cwe: number;
  /** Functional variant, e.g. `malloc_free_char`. */
  variant: string;
  /** Flow variant, two digits. */
  flow: string;
  files: JulietFile[];
  cxx: boolean;
  wchar: boolean;
  /** The family whose bug the run here does not reliably reach, if any. */
  family?: JulietFamily;
}

/** The files a test case's good or bad program is linked from. */
export function programFiles(tc: JulietTestCase, kind: 'good' | 'bad'): string[] {
  return tc.files.filter((f) => f.program === 'both' || f.program === kind).map((f) => f.path);
}

// CWE<id>_<name>__<functional variant>_<flow>[a-z]?.c[pp]; split test cases end in a, b, ... or _bad/_good1
const FILE = /^(CWE(\d+)_\w+?__(\w+)_(\d{2}))([a-z]|_bad|_good\w*)?\.(c|cpp)$/;

/** Resolves `--cwe` values (416, CWE416, uaf, ...) to CWE numbers; unknown names list the valid ones. */
export function resolveCwes(requested: readonly string[], available: readonly number[]): number[] {
  const out = new Set<number>();
  const unknown: string[] = [];
  for (const r of requested) {
    const id = /^(?:CWE-?)?(\d+)$/i.exec(r)?.[1];
    const ids = id !== undefined ? [Number(id)] : CWE_ALIASES[r.toLowerCase()];
    if (!ids) unknown.push(r);
    else ids.forEach((i) => out.add(i));
  }
  if (unknown.length) {
    throw new UserError(
      `unknown CWE${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')}; give a number (416), CWE416 or an alias: ` +
        `${Object.keys(CWE_ALIASES).join(', ')}; CWEs in this copy of Juliet: ${available.join(', ')}`,
    );
  }
  const missing = [...out].filter((c) => !available.includes(c));
  if (missing.length && missing.length === out.size) {
    throw new UserError(`no test cases for CWE ${missing.join(', ')} in this copy of Juliet; it has CWE ${available.join(', ')}`);
  }
  return [...out].filter((c) => available.includes(c)).sort((a, b) => a - b);
}

/** CWE numbers with a directory under `testcases/`. */
export function availableCwes(root: string): number[] {
  return cweDirs(root).map((d) => d.cwe);
}

function cweDirs(root: string): Array<{ cwe: number; dir: string }> {
  const testcases = join(root, 'testcases');
  if (!existsSync(testcases)) return [];
  return readdirSync(testcases)
    .map((d) => ({ cwe: Number(/^CWE(\d+)_/.exec(d)?.[1]), dir: join(testcases, d) }))
    .filter((d) => Number.isInteger(d.cwe) && statSync(d.dir).isDirectory())
    .sort((a, b) => a.cwe - b.cwe);
}

/** Source files of a CWE directory, including its `s01`, `s02`, ... subdirectories. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (/^s\d+$/.test(f) && statSync(p).isDirectory()) return sourceFiles(p);
    return FILE.test(f) ? [p] : [];
  });
}

export interface Discovery {
  testcases: JulietTestCase[];
  /** Test cases that cannot run here (Windows, sockets), with the reason. */
  skipped: Array<{ name: string; cwe: number; flow: string; reason: string }>;
}

/** The test cases of the chosen CWEs and flow variants, minus those that cannot run here. */
export function discoverTestCases(root: string, cwes: readonly number[], flows: readonly string[] | 'all'): Discovery {
  const byName = new Map<string, JulietTestCase>();
  const skipped: Discovery['skipped'] = [];
  const seenSkipped = new Set<string>();
  for (const { cwe, dir } of cweDirs(root).filter((d) => cwes.includes(d.cwe))) {
    for (const file of sourceFiles(dir).sort()) {
      const m = FILE.exec(file.split('/').pop()!)!;
      const [, name, , variant, flow, part, ext] = m as unknown as [string, string, string, string, string, string | undefined, string];
      if (flows !== 'all' && !flows.includes(flow)) continue;
      const unsupported = UNSUPPORTED_VARIANTS.find((u) => u.pattern.test(variant));
      if (unsupported) {
        if (!seenSkipped.has(name)) skipped.push({ name, cwe, flow, reason: unsupported.reason });
        seenSkipped.add(name);
        continue;
      }
      let tc = byName.get(name);
      if (!tc) {
        const family = FAMILY_RULES.find((r) => r.pattern.test(variant) && (!r.cwes || r.cwes.includes(cwe)))?.family;
        tc = { name, cwe, variant, flow, files: [], cxx: false, wchar: /(^|_)wchar_t(_|$)/.test(variant), ...(family ? { family } : {}) };
        byName.set(name, tc);
      }
      tc.files.push({ path: file, program: part === '_bad' ? 'bad' : part?.startsWith('_good') ? 'good' : 'both' });
      if (ext === 'cpp') tc.cxx = true;
    }
  }
  return { testcases: [...byName.values()].sort((a, b) => a.cwe - b.cwe || a.name.localeCompare(b.name)), skipped };
}
