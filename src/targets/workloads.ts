import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import {
  type CheckOutcome,
  type Context,
  type ExecutionResult,
  run,
  sha256File,
  type SizeName,
  type SizeValues,
  sizeValue,
} from '../api.js';
import type { WorkloadDescription, WorkloadEnv } from './program.js';

/**
 * A small seeded PRNG (sfc32): the same seed gives the same sequence on every machine and
 * Node version, unlike Math.random.
 */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return this.next() % n;
  }
}

const WORDS = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they ' +
  'you were her she there been one all we their has would when if so no will more can out up into do any your what ' +
  'benchmark compiler pointer sanitizer memory allocation overhead instrumentation runtime kernel buffer register ' +
  'function variable loop branch cache page thread signal process address stack heap bounds check shadow metadata'
).split(' ');

/**
 * Writes `bytes` bytes of English-like text (words with a skewed frequency, punctuation,
 * line breaks and some numbers) to `file`, deterministically from `seed`. Compressors find
 * structure in it about as in real text (bzip2 -9 reaches roughly 4:1).
 */
export function writeText(file: string, bytes: number, seed: number): void {
  const rng = new Prng(seed);
  const fd = openSync(file, 'w');
  try {
    const chunk = Buffer.alloc(1 << 20);
    let written = 0;
    let line = 0;
    while (written < bytes) {
      let used = 0;
      while (used < chunk.length - 64) {
        // squaring skews the choice towards the first (most common) words
        const r = rng.next() / 0x100000000;
        let word = WORDS[Math.floor(r * r * WORDS.length)]!;
        const extra = rng.below(64);
        if (extra === 0) word = String(rng.below(100000));
        used += chunk.write(word, used, 'latin1');
        line += word.length + 1;
        if (extra === 1) chunk[used++] = 0x2c; // ','
        if (extra === 2 || line > 60 + rng.below(20)) {
          chunk[used++] = extra === 2 ? 0x2e : 0x20;
          chunk[used++] = 0x0a;
          line = 0;
        } else {
          chunk[used++] = 0x20;
        }
      }
      const n = Math.min(used, bytes - written);
      writeSync(fd, chunk, 0, n);
      written += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** Version of the generators; bump it when their output changes so cached inputs are remade. */
const GENERATOR_VERSION = 1;

/**
 * A generated text input shared by every instance, made once (atomically) in `env.inputs`.
 * Returns its path and sha256.
 */
export async function textInput(env: WorkloadEnv, bytes: number, seed: number): Promise<{ path: string; sha256: string }> {
  const path = join(env.inputs, `text-${bytes}-${seed}.v${GENERATOR_VERSION}.txt`);
  const digestFile = `${path}.sha256`;
  if (existsSync(path) && existsSync(digestFile)) return { path, sha256: readFileSync(digestFile, 'utf8').trim() };
  mkdirSync(env.inputs, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeText(tmp, bytes, seed);
  const sha256 = await sha256File(tmp);
  renameSync(tmp, path);
  writeFileSync(digestFile, `${sha256}\n`);
  return { path, sha256 };
}

/** How a compressor turns one file into another: argv and the file it writes. */
export type FileCommand = (bin: Record<string, string>, input: string) => { argv: string[]; output: string };

/** Options of {@link compressorWorkloads}. */
export interface CompressorOptions {
  /** Input size in bytes per run size. */
  bytes: SizeValues<number>;
  /** Input size of the decompression workload (default: `bytes`); decompression is faster. */
  decompressBytes?: SizeValues<number>;
  /** Seed of the generated input. */
  seed?: number;
  /** Compresses `input` (a file in the benchmark's working directory). */
  compress: FileCommand;
  /** Decompresses `input`; used by the decompression workload and to verify the round trip. */
  decompress: FileCommand;
  /** Extension of compressed files, e.g. `.bz2`. */
  suffix: string;
}

/**
 * `compress` and `decompress` workloads of a file compressor. They write their output to a
 * file in the workload's directory (not to stdout, which the framework keeps per execution),
 * so they are `exclusive`: iterations of one of them never overlap, even in a parallel run. Both are verified on every
 * execution by a round trip with the same binary: the compressed output must decompress to
 * the generated input, and decompression must reproduce it byte for byte.
 */
export function compressorWorkloads(options: CompressorOptions & { level?: string }): WorkloadDescription[] {
  const seed = options.seed ?? 1;
  return [
    {
      name: 'compress',
      description: 'compress generated text; verified by decompressing it again',
      async plan(env) {
        const bytes = sizeValue(options.bytes, env.size, env.benchmark);
        const input = await textInput(env, bytes, seed);
        const local = join(env.dir, 'input.txt');
        copyIfMissing(input.path, local);
        const { argv, output } = options.compress(env.bin, local);
        return {
          argv,
          fields: { inputBytes: bytes },
          prepare: () => rmSync(output, { force: true }),
          exclusive: true,
          check: (result, ctx) => verifyRoundTrip(ctx, env, output, input.sha256, options, result),
        };
      },
    },
    {
      name: 'decompress',
      description: 'decompress generated text compressed by the same binary; verified byte for byte',
      async plan(env) {
        const bytes = sizeValue(options.decompressBytes ?? options.bytes, env.size, env.benchmark);
        const input = await textInput(env, bytes, seed);
        const compressed = await compressedCopy(env, input.path, options);
        const { argv, output } = options.decompress(env.bin, compressed);
        return {
          argv,
          fields: { inputBytes: bytes },
          prepare: () => rmSync(output, { force: true }),
          exclusive: true,
          check: async (result) => (await sameDigest(output, input.sha256, result)) ?? { fields: {} },
        };
      },
    },
  ];
}

function copyIfMissing(from: string, to: string): void {
  if (existsSync(to)) return;
  mkdirSync(dirname(to), { recursive: true });
  const tmp = `${to}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  copyFileSync(from, tmp);
  renameSync(tmp, to);
}

/** The input compressed once by this instance's binary (not measured). */
async function compressedCopy(env: WorkloadEnv, input: string, options: CompressorOptions): Promise<string> {
  const final = join(env.dir, `input.txt${options.suffix}`);
  if (existsSync(final)) return final;
  const work = join(env.dir, 'prepare');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const local = join(work, 'input.txt');
  copyFileSync(input, local);
  const { argv, output } = options.compress(env.bin, local);
  await run(env.ctx, argv, { cwd: work, silent: true });
  renameSync(output, final);
  rmSync(work, { recursive: true, force: true });
  return final;
}

async function verifyRoundTrip(
  ctx: Context,
  env: WorkloadEnv,
  compressed: string,
  expected: string,
  options: CompressorOptions,
  result: ExecutionResult,
): Promise<CheckOutcome> {
  if (!existsSync(compressed)) return { failure: `no compressed output ${compressed}` };
  const bytes = readFileSync(compressed).length;
  // decompress a private copy so checks of concurrent executions never share files
  const work = join(env.dir, `verify-${process.pid}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(work, { recursive: true });
  try {
    const copy = join(work, `out${options.suffix}`);
    copyFileSync(compressed, copy);
    const { argv, output } = options.decompress(env.bin, copy);
    const r = await run(ctx, argv, { cwd: work, allowError: true, silent: true });
    if (r.exitCode !== 0) return { failure: `round trip failed: decompressing the output exited with ${r.exitCode ?? r.signal}` };
    const wrong = await sameDigest(output, expected, result);
    return wrong ?? { fields: { compressedBytes: bytes } };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function sameDigest(file: string, expected: string, _result: ExecutionResult): Promise<CheckOutcome | undefined> {
  if (!existsSync(file)) return { failure: `output ${file} is missing` };
  const actual = await sha256File(file);
  if (actual !== expected) return { failure: `output differs from the original input (sha256 ${actual}, expected ${expected})` };
  return undefined;
}

/** Options of {@link expectedOutputWorkload}. */
export interface ExpectedOutputOptions {
  name: string;
  description: string;
  /** argv per size, given the binaries. */
  argv: (bin: Record<string, string>, size: SizeName) => string[];
  /** Lines that must all appear in standard output, per size (a size without lines cannot be run). */
  expect: SizeValues<string[]>;
}

/** A workload verified by lines its standard output must contain (an interpreter's result). */
export function expectedOutputWorkload(options: ExpectedOutputOptions): WorkloadDescription {
  return {
    name: options.name,
    description: options.description,
    plan(env) {
      const expected = sizeValue(options.expect, env.size, env.benchmark);
      return {
        argv: options.argv(env.bin, env.size),
        check: (result) => {
          const lines = readFileSync(result.stdoutPath, 'utf8')
            .split('\n')
            .map((l) => l.trim());
          const missing = expected.filter((want) => !lines.includes(want));
          if (missing.length) {
            const got = lines.filter(Boolean).slice(-5).join(' | ');
            return { failure: `wrong output: missing '${missing.join("', '")}'; last lines: ${got || '(none)'}` };
          }
          return {};
        },
      };
    },
  };
}
