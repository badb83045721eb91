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

/** "unknown target 'x'; valid targets: a, b" */
export function unknownName(kind: string, name: string, valid: Iterable<string>): UserError {
  const names = [...valid].sort();
  const list = names.length ? names.join(', ') : '(none registered)';
  return new UserError(`unknown ${kind} '${name}'; valid ${kind}s: ${list}`);
}
