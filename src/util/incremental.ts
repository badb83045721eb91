import { existsSync, readFileSync, statSync } from 'node:fs';

/** One source file compiled to one object, with a compiler-written dependency file beside it. */
export interface CompileUnit {
  source: string;
  object: string;
}

/** The source and every header listed in the object's dependency file (`-MMD`). */
export function unitInputs(u: CompileUnit): string[] {
  const depfile = u.object.replace(/\.o$/, '.d');
  if (!existsSync(depfile)) return [u.source];
  const text = readFileSync(depfile, 'utf8').replace(/\\\n/g, ' ');
  const colon = text.indexOf(': ');
  return [
    u.source,
    ...text
      .slice(colon + 2)
      .split(/\s+/)
      .filter(Boolean),
  ];
}

/** True when `target` exists and is at least as new as every input (a missing input: stale). */
export function upToDate(target: string, inputs: string[]): boolean {
  if (!existsSync(target)) return false;
  const t = statSync(target).mtimeMs;
  return inputs.every((i) => existsSync(i) && statSync(i).mtimeMs <= t);
}

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function inParallel<T>(limit: number, items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
