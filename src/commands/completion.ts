import type { OptionSpec } from '../core/options.js';
import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import { allPackages } from '../core/packages.js';
import type { Setup } from '../core/setup.js';
import { HOOK_NAMES } from './exec-hook.js';
import { MEASURED_FIELDS } from '../results/schema.js';
import { knownFields, RECORD_KEYS } from '../report/fields.js';
import { AGGREGATIONS } from '../report/aggregate.js';
import { zshScript } from './completion-zsh.js';
import { type CompletionCommand, type CompletionKind, flagsOf, globalOptions, sh, valueKind } from './completion-spec.js';

export type { CompletionCommand, CompletionKind } from './completion-spec.js';

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
 * or `source <(infra completion zsh)` (or, for zsh, saved as `_infra` in a directory of `$fpath`).
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
    field: fieldNames(setup).join(' '),
    aggregation: Object.keys(AGGREGATIONS).join(' '),
    shell: 'bash zsh',
    dir: '',
    file: '',
    none: '',
  };
  if (shell === 'zsh') return zshScript(commands, words);
  return `# bash completion for infra\n${bashFunction(commands, words)}complete -F _infra infra\n`;
}

/**
 * Fields `-f`, `--groupby` and `--higher-is-better` take: the measured ones, the record's keys
 * and what the project's targets report. (`-f` also takes `FIELD:AGGREGATION`; the field is
 * what is completed.)
 */
function fieldNames(setup: Setup): string[] {
  const fields = [...setup.targets.values()].flatMap((t) => [...knownFields(t).keys()]);
  return [...new Set([...Object.keys(MEASURED_FIELDS), ...Object.keys(RECORD_KEYS), ...fields])];
}

function packageIdents(setup: Setup): string[] {
  try {
    return allPackages(setup).map((p) => p.ident());
  } catch {
    return []; // e.g. a dependency cycle: reported by the commands that build
  }
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

function compgen(kind: CompletionKind | string[], words: Record<CompletionKind, string>): string {
  if (Array.isArray(kind)) return `COMPREPLY=( $(compgen -W ${sh(kind.join(' '))} -- "$cur") )`;
  if (kind === 'dir') return 'COMPREPLY=( $(compgen -d -- "$cur") )';
  if (kind === 'file') return 'COMPREPLY=( $(compgen -f -- "$cur") )';
  if (kind === 'none') return 'COMPREPLY=()';
  return `COMPREPLY=( $(compgen -W ${sh(words[kind])} -- "$cur") )`;
}

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
