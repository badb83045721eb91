import type { OptionSpec } from '../core/options.js';

// What both completion scripts (bash and zsh) are made from.

/** What a positional argument or an option's value is, for completing it. */
export type CompletionKind = 'target' | 'instance' | 'package' | 'hook' | 'shell' | 'field' | 'aggregation' | 'dir' | 'file' | 'none';

/** A command as completion sees it: the same declarations the parser gets. */
export interface CompletionCommand {
  name: string;
  /** One line saying what the command does (zsh shows it beside the name). */
  description?: string;
  /** Every option the command accepts (global ones included). */
  options: readonly OptionSpec[];
  /** Kinds of its positional arguments; the last one repeats if it is variadic. */
  positional: readonly CompletionKind[];
  /** Whether the last positional argument takes several values. */
  variadic: boolean;
}

/** What a value of this option is: from its choices, or from the name of its value. */
export function valueKind(spec: OptionSpec, command: string): CompletionKind | string[] | undefined {
  const value = /[<[]([^>\]]*)[>\]]/.exec(spec.flags)?.[1]?.replace(/\.\.\.$/, '');
  if (value === undefined) return undefined; // a flag without a value
  if (spec.choices) return [...spec.choices];
  if (command === 'clean' && value === 'names') return 'target';
  if (command === 'clean' && value === 'idents') return 'package';
  // report and compare: instances of the results (the baseline too), fields to show or group on
  if (/^(names|baseline)$/.test(value) && /--(instances|overhead)\b/.test(spec.flags)) return 'instance';
  if (/^(specs|field|fields)$/.test(value)) return 'field';
  if (/^(rundir|dir|directory)$/.test(value)) return 'dir';
  if (/^(file|path|outfile)$/.test(value)) return 'file';
  return 'none';
}

/** The options every command takes (given before the command too). */
export function globalOptions(commands: readonly CompletionCommand[]): OptionSpec[] {
  return (
    commands[0]?.options.filter((o) => o.flags.includes('--setup') || /^-[vqj],/.test(o.flags) || o.flags.startsWith('--source-mirror')) ??
    []
  );
}

/** The spellings of options: `-i, --iterations <n>` is `-i` and `--iterations`. */
export const flagsOf = (specs: readonly OptionSpec[]) => specs.flatMap((s) => s.flags.split(/[ ,|]+/).filter((f) => f.startsWith('-')));

/** Single-quoted for the shell. */
export const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
