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
  leak: [401],
  'memory-leak': [401],
  // groups
  spatial: [121, 122, 124, 126, 127],
  temporal: [415, 416],
  'memory-safety': [121, 122, 124, 126, 127, 401, 415, 416, 476, 590, 761, 762],
};

/**
 * Test cases that cannot run on Linux as single programs: Windows APIs and client/server pairs
 * over sockets. Matched against the functional variant. wchar_t test cases run (`--skip-wchar`
 * leaves them out, as some harnesses do).
 */
export const UNSUPPORTED_VARIANTS: ReadonlyArray<{ pattern: RegExp; reason: string }> = [
  { pattern: /(^|_)w32/i, reason: 'windows' },
  { pattern: /(connect|listen)_socket/, reason: 'socket' },
];

/** Families of test cases whose bad program does not reliably reach its bug here. */
export type JulietFamily = 'input-dependent' | 'nondeterministic' | 'not-a-bug-here';
export const JULIET_FAMILIES: readonly JulietFamily[] = ['input-dependent', 'nondeterministic', 'not-a-bug-here'];

/**
 * Which test cases belong to a family (matched against the functional variant, for the CWEs
 * given or all) and why they are left out by default (`--include FAMILY` runs them).
 */
export const FAMILY_RULES: ReadonlyArray<{ family: JulietFamily; pattern: RegExp; cwes?: readonly number[]; why: string }> = [
  {
    family: 'input-dependent',
    pattern: /(^|_)(fgets|fscanf)(_|$)/,
    cwes: [124, 127],
    why: 'the index comes from standard input, and the fixed input (12) is never negative',
  },
  {
    family: 'input-dependent',
    pattern: /(^|_)(environment|file)(_|$)/,
    why: 'the data comes from an environment variable that is unset or a file that is absent',
  },
  {
    family: 'nondeterministic',
    pattern: /(^|_)rand(_|$)/,
    why: 'srand(time(NULL)) decides whether the bug is reached: run them with --include nondeterministic (several runs each)',
  },
  {
    family: 'not-a-bug-here',
    pattern: /(^|_)sizeof_(double|int64_t|struct)(_|$)/,
    cwes: [122],
    why: 'allocates sizeof(pointer) for the pointee, which is no smaller on 64-bit targets',
  },
];

/** CWEs whose bugs only a leak check finds: Juliet runs them with leak detection on. */
export const LEAK_CWES: readonly number[] = [401];

/**
 * Run-time options without which a sanitizer cannot see a CWE's bugs: with the option off,
 * the report says the CWE cannot be detected instead of counting misses silently.
 */
export const REQUIRED_OPTIONS: ReadonlyArray<{ cwe: number; sanitizer: string; variable: string; option: string }> = [
  { cwe: 401, sanitizer: 'address', variable: 'ASAN_OPTIONS', option: 'detect_leaks' },
  { cwe: 762, sanitizer: 'address', variable: 'ASAN_OPTIONS', option: 'alloc_dealloc_mismatch' },
];
