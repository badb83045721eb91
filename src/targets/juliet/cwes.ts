/**
 * Names for the CWEs the Juliet suite covers that run-time defenses are usually tested on:
 * `--cwe` accepts a number (416), `CWE416` or any alias below. A group stands for several CWEs.
 */
export const CWE_ALIASES: Readonly<Record<string, readonly number[]>> = {
  'stack-overflow': [121],
  'stack-buffer-overflow': [121],
  'heap-overflow': [122],
  'heap-buffer-overflow': [122],
  'buffer-underwrite': [124],
  'buffer-overread': [126],
  'buffer-underread': [127],
  'integer-overflow': [190],
  'integer-underflow': [191],
  'divide-by-zero': [369],
  'double-free': [415],
  uaf: [416],
  'use-after-free': [416],
  uninitialized: [457],
  'null-deref': [476],
  'nullptr-deref': [476],
  'free-non-heap': [590],
  'bad-free': [761],
  'mismatched-free': [762],
  // groups
  spatial: [121, 122, 124, 126, 127],
  temporal: [415, 416],
  'memory-safety': [121, 122, 124, 126, 127, 415, 416, 476, 590, 761, 762],
};

/**
 * Test cases that cannot run on Linux as single programs: Windows APIs, wide-character-only
 * variants, and client/server pairs over sockets. Matched against the functional variant.
 */
export const UNSUPPORTED_VARIANTS: ReadonlyArray<{ pattern: RegExp; reason: string }> = [
  { pattern: /(^|_)w32/i, reason: 'Windows API' },
  { pattern: /wchar_t/, reason: 'wchar_t only' },
  { pattern: /(connect|listen)_socket/, reason: 'needs a socket peer' },
];
