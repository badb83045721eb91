import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import type { OptionSpec } from '../core/options.js';
import { allPackages } from '../core/packages.js';
import type { Setup } from '../core/setup.js';
import { HOOK_NAMES } from './exec-hook.js';
import { zshScript } from './completion-zsh.js';

/** What a positional argument or an option's value is, for completing it. */
export type CompletionKind = 'target' | 'instance' | 'package' | 'hook' | 'shell' | 'dir' | 'file' | 'none';

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

export interface CompletionInput {
  shell: string;
  commands: readonly CompletionCommand[];
}

/**
 * `infra completion bash|zsh`: a completion script made from the commands' own option
 * declarations (with the options the project's targets and instances add), so it completes
 * exactly what the parser accepts: per-command options, option values with a fixed set of
 * choices, target, instance, package and hook names, and files or directories where a
 * path is expected. Install with `infra completion bash > ~/.local/share/bash-completion/completions/infra`
 * or `source <(infra completion zsh)`.
 */
export async function completion(setup: Setup, _ctx: Context, { shell, commands }: CompletionInput): Promise<void> {
  process.stdout.write(completionScript(setup, shell, commands));
}

export function completionScript(setup: Setup, shell: string, commands: readonly CompletionCommand[]): string {
  if (shell !== 'bash' && shell !== 'zsh') throw new UserError(`unknown shell '${shell}'; valid shells: bash, zsh`, { exitCode: 2 });
  const words: Record<CompletionKind, string> = {
    target: [...setup.targets.keys()].join(' '),
    instance: [...setup.instances.keys()].join(' '),
    package: packageIdents(setup).join(' '),
    hook: Object.keys(HOOK_NAMES).join(' '),
    shell: 'bash zsh',
    dir: '',
    file: '',
    none: '',
  };
  if (shell === 'zsh') return zshScript(commands, words);
  return `# bash completion for infra\n${bashFunction(commands, words)}complete -F _infra infra\n`;
}

function packageIdents(setup: Setup): string[] {
  try {
    return allPackages(setup).map((p) => p.ident());
  } catch {
    return []; // e.g. a dependency cycle: reported by the commands that build
  }
}

/** What a value of this option is: from its choices, or from the name of its value. */
export function valueKind(spec: OptionSpec, command: string): CompletionKind | string[] | undefined {
  const value = /[<[]([^>\]]*)[>\]]/.exec(spec.flags)?.[1]?.replace(/\.\.\.$/, '');
  if (value === undefined) return undefined; // a flag without a value
  if (spec.choices) return [...spec.choices];
  if (command === 'clean' && value === 'names') return 'target';
  if (command === 'clean' && value === 'idents') return 'package';
  if (/^(rundir|dir|directory)$/.test(value)) return 'dir';
  if (/^(file|path|outfile)$/.test(value)) return 'file';
  return 'none';
}

function positionalKind(spec: string): CompletionKind {
  const name = spec.replace(/[<>[\].]/g, '');
  const kinds: Record<string, CompletionKind> = {
    target: 'target',
    instances: 'instance',
    instance: 'instance',
    package: 'package',
    hook: 'hook',
    shell: 'shell',
    rundirs: 'dir',
    dir: 'dir',
    files: 'file',
  };
  return kinds[name] ?? 'none';
}

/** Positional kinds of a command's declared arguments. */
export function positionalKinds(args: ReadonlyArray<{ spec: string }> | undefined): { positional: CompletionKind[]; variadic: boolean } {
  const specs = args ?? [];
  return { positional: specs.map((a) => positionalKind(a.spec)), variadic: specs.some((a) => a.spec.includes('...')) };
}

export const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function compgen(kind: CompletionKind | string[], words: Record<CompletionKind, string>): string {
  if (Array.isArray(kind)) return `COMPREPLY=( $(compgen -W ${sh(kind.join(' '))} -- "$cur") )`;
  if (kind === 'dir') return 'COMPREPLY=( $(compgen -d -- "$cur") )';
  if (kind === 'file') return 'COMPREPLY=( $(compgen -f -- "$cur") )';
  if (kind === 'none') return 'COMPREPLY=()';
  return `COMPREPLY=( $(compgen -W ${sh(words[kind])} -- "$cur") )`;
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

function bashFunction(commands: readonly CompletionCommand[], words: Record<CompletionKind, string>): string {
  const globals = globalOptions(commands);
  const takesValue = (specs: readonly OptionSpec[]) => flagsOf(specs.filter((s) => /[<[]/.test(s.flags)));
  const lines: string[] = [];
  lines.push('_infra() {');
  lines.push('  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd= w i npos=0');
  // the command is the first word that is neither an option nor an option's value
  lines.push('  for ((i = 1; i < COMP_CWORD; i++)); do');
  lines.push('    w=${COMP_WORDS[i]}');
  lines.push('    case "$w" in');
  // (values of every command's options are skipped, so they do not count as positionals)
  const globalValues = [...new Set(commands.flatMap((c) => takesValue(c.options)))];
  if (globalValues.length) lines.push(`      ${globalValues.join('|')}) i=$((i + 1));;`);
  // `-v LEVEL` (the level is optional)
  lines.push(`      -v|--verbosity) case "\${COMP_WORDS[i+1]}" in debug|info|warning|error) i=$((i + 1));; esac;;`);
  lines.push('      -*) ;;');
  lines.push('      *) if [ -z "$cmd" ]; then cmd=$w; else npos=$((npos + 1)); fi;;');
  lines.push('    esac');
  lines.push('  done');
  lines.push('  if [ -z "$cmd" ]; then');
  lines.push(
    `    case "$cur" in -*) COMPREPLY=( $(compgen -W ${sh(flagsOf(globals).join(' '))} -- "$cur") );; *) COMPREPLY=( $(compgen -W ${sh(commands.map((c) => c.name).join(' '))} -- "$cur") );; esac`,
  );
  lines.push('    return');
  lines.push('  fi');
  lines.push('  case "$cmd" in');
  for (const cmd of commands) {
    lines.push(`    ${cmd.name})`);
    // values of options with a fixed set or a known kind
    const valueCases: string[] = [];
    for (const spec of cmd.options) {
      const kind = valueKind(spec, cmd.name);
      if (kind === undefined) continue;
      const flags = flagsOf([spec]);
      valueCases.push(`        ${flags.join('|')}) ${compgen(kind, words)}; return;;`);
    }
    if (valueCases.length) lines.push('      case "$prev" in', ...valueCases, '      esac');
    lines.push(`      case "$cur" in -*) COMPREPLY=( $(compgen -W ${sh(flagsOf(cmd.options).join(' '))} -- "$cur") ); return;; esac`);
    if (cmd.positional.length) {
      const cases = cmd.positional.map((kind, i) => {
        const last = i === cmd.positional.length - 1 && cmd.variadic;
        return `        ${last ? '*' : i}) ${compgen(kind, words)};;`;
      });
      if (!cmd.variadic) cases.push('        *) COMPREPLY=();;');
      lines.push('      case "$npos" in', ...cases, '      esac');
    }
    lines.push('      ;;');
  }
  lines.push('  esac');
  lines.push('}');
  return lines.join('\n') + '\n';
}
