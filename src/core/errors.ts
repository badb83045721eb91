/**
 * A problem in the user's input or environment: a wrong name, a bad option, a missing
 * program, a failed build command. The top-level handler prints only its message (no stack
 * trace) and exits non-zero. Everything else that is thrown is treated as a bug.
 */
export class UserError extends Error {
  /** Exit status used by the top-level handler. */
  readonly exitCode: number;
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UserError';
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Thrown when the user interrupts the tool (Ctrl-C); exit status 130 like a shell. */
export class InterruptedError extends UserError {
  constructor(what = 'interrupted') {
    super(what, { exitCode: 130 });
    this.name = 'InterruptedError';
  }
}

export function isUserError(err: unknown): err is UserError {
  return err instanceof UserError;
}

/** Lines of each failure's message kept by {@link severalFailed} (the end: the last output, the log). */
const FAILURE_LINES = 14;

/**
 * One error for several parts that failed (builds of instances, programs of a suite), each
 * summarised with its own message: its first line and its last lines, which name the log and
 * show the end of the output. A failure that is no UserError is a bug and is thrown as it is.
 */
export function severalFailed(summary: string, failures: ReadonlyArray<{ label: string; error: unknown }>): Error {
  const bug = failures.find((f) => !(f.error instanceof UserError));
  if (bug) return bug.error instanceof Error ? bug.error : new Error(String(bug.error));
  const parts = failures.map(({ label, error }) => {
    const [first, ...rest] = (error as UserError).message.split('\n');
    const kept = rest.length > FAILURE_LINES ? ['  ...', ...rest.slice(-FAILURE_LINES)] : rest;
    return [`- ${label}: ${first ?? ''}`, ...kept.map((l) => `  ${l}`)].join('\n');
  });
  return new UserError(`${summary}:\n${parts.join('\n')}`);
}

/** "unknown target 'helo'; did you mean 'hello'? valid targets: hello, world" */
export function unknownName(kind: string, name: string, valid: Iterable<string>): UserError {
  const names = [...valid].sort();
  const list = names.length ? names.join(', ') : '(none registered)';
  return new UserError(`unknown ${kind} '${name}';${didYouMean(name, names)} valid ${kind}s: ${list}`);
}

/** ` did you mean 'x'?` for the closest of `valid` to a mistyped name, or '' when none is close. */
export function didYouMean(name: string, valid: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of valid) {
    const d = candidate.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  // a third of the name may be wrong (one or two typos), not a different name altogether
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? ` did you mean '${best}'?` : '';
}

/** Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
