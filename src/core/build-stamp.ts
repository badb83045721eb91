import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Context } from './context.js';
import { UserError } from './errors.js';
import { writeOutput } from './output.js';

/**
 * The configuration a build depends on, as JSON values by name: compiler, flags, the source's
 * sha256, a recipe version... Name the keys for people: a change is reported by its key
 * (`cflags: '-O2' -> '-O2 -fsanitize=address'`).
 */
export type BuildConfig = Readonly<Record<string, unknown>>;

/** Names a build in the messages of {@link BuildStamp.refuseIfStale}. */
export interface BuildDescription {
  /** The subject of the message (default `TARGET for INSTANCE`), e.g. `kernels/matmul for clang`. */
  what?: string;
  /** Target and instance to rebuild, for the `infra build TARGET INSTANCE` hint. */
  target: string;
  instance: string;
}

/** The key under which the state of `ctx.buildInputs` is recorded. */
const BUILD_INPUTS = 'buildInputs';

/**
 * The record of what a build was made with, kept in a file next to what it built. A target
 * compares it before building (skip what is up to date) and before running (never run a stale
 * binary):
 *
 * ```ts
 * const stamp = new BuildStamp(ctx, join(dir, '.infra-build'), { cc: ctx.cc, cflags: ctx.cflags }, [binary]);
 * if (stamp.isUpToDate()) return;          // in build()
 * ... build ...
 * stamp.record();
 * stamp.refuseIfStale({ target: this.name, instance: instance.name }); // in run()
 * ```
 *
 * The configuration is stored as JSON, so a stale build is reported with what changed. The
 * state of `ctx.buildInputs` (the pass plugins and runtime libraries the instance's flags name)
 * is added to every configuration: rebuilding one of them makes the builds that use it stale.
 * On `--dry-run` nothing is recorded and nothing is refused.
 */
export class BuildStamp {
  /** The configuration compared and recorded: the given one plus the build inputs' state. */
  readonly config: BuildConfig;

  /**
   * @param file where the configuration is recorded
   * @param config what the build would be made with now
   * @param outputs files the build makes; a missing one makes the build stale too
   */
  constructor(
    private readonly ctx: Context,
    readonly file: string,
    config: BuildConfig,
    readonly outputs: readonly string[] = [],
  ) {
    this.config = { ...config, [BUILD_INPUTS]: buildInputsState(ctx) };
  }

  /** The configuration recorded by the last build; undefined when there is none. */
  recorded(): BuildConfig | 'unreadable' | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const value: unknown = JSON.parse(text);
      return isRecord(value) ? value : 'unreadable';
    } catch {
      return 'unreadable'; // a digest written by an earlier version of the framework
    }
  }

  /**
   * What differs between the recorded build and this configuration, one phrase per change
   * (`not built`, `cflags: '-O2' -> '-O3'`, `source sha256 changed`, `build input X changed`,
   * `X is missing`); empty when the build is up to date.
   */
  changes(): string[] {
    const recorded = this.recorded();
    if (recorded === undefined) return ['not built'];
    if (recorded === 'unreadable') return ['built by an earlier version of instrumentation-infra'];
    const changes = describeChanges(recorded, this.config);
    for (const out of this.outputs) if (!existsSync(out)) changes.push(`${out} is missing`);
    return changes;
  }

  /** Whether the recorded build matches the current configuration and inputs. */
  isUpToDate(): boolean {
    return this.changes().length === 0;
  }

  /** Records the configuration once a build succeeded; on `--dry-run` (nothing was built) it does nothing. */
  record(): void {
    if (this.ctx.dryRun) return;
    writeOutput(this.ctx, this.file, JSON.stringify(this.config, null, 2) + '\n');
  }

  /**
   * Throws a UserError unless the build is up to date: `WHAT is out of date: CHANGES; rebuild
   * it with 'infra build TARGET INSTANCE' (or use run --build)`, or `WHAT is not built; ...`.
   * On `--dry-run` nothing is refused (nothing runs either).
   */
  refuseIfStale(d: BuildDescription): void {
    if (this.ctx.dryRun) return;
    const changes = this.changes();
    if (!changes.length) return;
    const what = d.what ?? `${d.target} for ${d.instance}`;
    const how = `\`infra build ${d.target} ${d.instance}\` (or use run --build)`;
    if (changes.length === 1 && changes[0] === 'not built') throw new UserError(`${what} is not built; build it with ${how}`);
    throw new UserError(`${what} is out of date: ${changes.join('; ')}; rebuild it with ${how}`);
  }
}

/** Size and modification time of each build input ('missing' for one that does not exist yet). */
function buildInputsState(ctx: Context): Record<string, string> {
  const state: Record<string, string> = {};
  for (const file of [...new Set(ctx.buildInputs)].sort()) {
    try {
      const st = statSync(file);
      state[file] = `${st.size}:${st.mtimeMs}`;
    } catch {
      state[file] = 'missing';
    }
  }
  return state;
}

/** The changes from `before` to `after` in words, keys joined with dots. */
export function describeChanges(before: BuildConfig, after: BuildConfig): string[] {
  const changes: string[] = [];
  const inputsBefore = before[BUILD_INPUTS];
  const inputsAfter = after[BUILD_INPUTS];
  if (isRecord(inputsBefore) && isRecord(inputsAfter)) {
    for (const file of union(inputsBefore, inputsAfter)) {
      if (!(file in inputsBefore)) changes.push(`build input ${file} added`);
      else if (!(file in inputsAfter)) changes.push(`build input ${file} removed`);
      else if (inputsBefore[file] !== inputsAfter[file]) changes.push(`build input ${file} changed`);
    }
  }
  const rest = (c: BuildConfig) => Object.fromEntries(Object.entries(c).filter(([k]) => k !== BUILD_INPUTS));
  diff('', rest(before), rest(after), changes);
  return changes;
}

function diff(key: string, a: unknown, b: unknown, out: string[]): void {
  if (isRecord(a) && isRecord(b)) {
    for (const k of union(a, b)) diff(key ? `${key}.${k}` : k, a[k], b[k], out);
    return;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return;
  if (a === undefined) out.push(`${key}: added ${show(b)}`);
  else if (b === undefined) out.push(`${key}: removed (was ${show(a)})`);
  else if (typeof a === 'string' && typeof b === 'string' && (a.includes('\n') || b.includes('\n'))) {
    out.push(`${key}: ${firstDifferentLine(a, b)}`);
  } else if (isDigest(a) && isDigest(b)) out.push(`${key} changed`);
  else out.push(`${key}: ${show(a)} -> ${show(b)}`);
}

function firstDifferentLine(a: string, b: string): string {
  const la = a.split('\n');
  const lb = b.split('\n');
  let i = 0;
  while (la[i] === lb[i]) i++;
  return `line ${i + 1} ${show(la[i] ?? '')} -> ${show(lb[i] ?? '')}`;
}

/** Strings quoted, string lists as the command line they stand for, the rest as JSON. */
function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return `'${v.join(' ')}'`;
  // undefined and functions have no JSON text
  return v === undefined || typeof v === 'function' ? String(v) : JSON.stringify(v);
}

function isDigest(v: unknown): boolean {
  return typeof v === 'string' && /^[0-9a-f]{16,}$/i.test(v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function union(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])];
}
