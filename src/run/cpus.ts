import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.js';

/**
 * CPU lists as `--cpus` takes them and Linux prints them (`0`, `0,2-3`): checked when parsed,
 * and for executions on this machine against the CPUs this process may use, before a run
 * writes anything.
 */

/** The CPUs of a list such as `0,2-3`; a UserError naming `option` if it is not one. */
export function parseCpuList(text: string, option = '--cpus'): number[] {
  const cpus = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    const lo = Number(m?.[1]);
    const hi = m?.[2] === undefined ? lo : Number(m[2]);
    if (!m || hi < lo || hi > 4095) {
      throw new UserError(`${option} must be a list of CPU numbers such as 1 or 0,2-3, got '${text}'`);
    }
    for (let c = lo; c <= hi; c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** The CPUs this process may run on (its affinity mask), or null where Linux does not say. */
export function allowedCpus(statusFile = '/proc/self/status'): number[] | null {
  let text: string;
  try {
    text = readFileSync(statusFile, 'utf8');
  } catch {
    return null;
  }
  const list = /^Cpus_allowed_list:\s*(.+)$/m.exec(text)?.[1];
  return list ? parseCpuList(list.trim(), 'Cpus_allowed_list') : null;
}

/** A UserError unless every CPU of `list` is one this process may use. */
export function checkCpusAllowed(list: string, allowed: readonly number[] | null = allowedCpus()): void {
  const wanted = parseCpuList(list);
  if (!allowed) return;
  const missing = wanted.filter((c) => !allowed.includes(c));
  if (missing.length) {
    throw new UserError(
      `--cpus ${list}: CPU ${missing.join(', ')} cannot be used here; this process may run on CPUs ${formatCpuList(allowed)}`,
    );
  }
}

/** `0-3,6` for [0, 1, 2, 3, 6]. */
export function formatCpuList(cpus: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length;) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    parts.push(i === j ? String(cpus[i]) : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
