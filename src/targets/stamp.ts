import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * A short digest of a build configuration (compiler, flags, source checksum...). A target
 * stores it next to what it built and rebuilds only when it changes.
 */
export function configHash(config: unknown): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
}

export function readStamp(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function writeStamp(file: string, hash: string): void {
  writeFileSync(file, `${hash}\n`);
}
