import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The lowercase hex SHA-256 digest of a file, read as a stream (constant memory). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A fresh incremental SHA-256 hasher, for hashing data while it streams elsewhere. */
export function sha256Hasher(): Hash {
  return createHash('sha256');
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** True for a 64-digit hex SHA-256 digest (either case). */
export function isSha256(value: unknown): value is string {
  return typeof value === 'string' && SHA256_HEX.test(value.toLowerCase());
}
