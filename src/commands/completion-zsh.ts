import type { OptionSpec } from '../core/options.js';
import { type CompletionCommand, type CompletionKind, flagsOf, globalOptions, sh, valueKind } from './completion-spec.js';

/** The levels `-v LEVEL` takes (its value is optional: a bare `-v` counts). */
const VERBOSITY_LEVELS = ['debug', 'info', 'warning', 'error'];

/** A word in an action's word list (`(...)`) or a message. */
const escape = (s: string) => s.replace(/[\\[\]():\s]/g, (c) => `\\${c}`);
/** Text inside an `_arguments` description (`[...]`). */
const escapeDescription = (s: string) => s.replace(/[\\[\]]/g, (c) => `\\${c}`);

/** The `_arguments` action that completes a value of this kind. */
function action(kind: CompletionKind | string[], words: Record<CompletionKind, string>): string {
  if (Array.isArray(kind)) return `(${kind.map(escape).join(' ')})`;
  if (kind === 'dir') return '_files -/';
  if (kind === 'file') return '_files';
  if (kind === 'none' || kind === 'shell' || !words[kind]) return kind === 'shell' ? '(bash zsh)' : ' ';
  return `(${words[kind].split(' ').map(escape).join(' ')})`;
}

/**
 * One option as `_arguments` specs, one per spelling: `(-i --iterations)--iterations=[runs of
 * each benchmark]:n: `. Spellings of one option exclude each other; an option whose parser
 * accumulates (repeatable, or a list) may be given again.
 */
function optionSpecs(spec: OptionSpec, command: string, words: Record<CompletionKind, string>): string[] {
  const flags = flagsOf([spec]);
  const repeatable = (spec.parse?.length ?? 0) >= 2 || /\.\.\.[>\]]/.test(spec.flags);
  const exclude = repeatable ? '*' : flags.length > 1 ? `(${flags.join(' ')})` : '';
  const desc = `[${escapeDescription(spec.description)}]`;
  const verbosity = flags.includes('--verbosity');
  const kind = valueKind(spec, command);
  const valueName = /[<[]([^>\]]*)[>\]]/.exec(spec.flags)?.[1]?.replace(/\.\.\.$/, '') ?? 'value';
  // `-f FIELD:AGG[:AGG...]`: the field, then aggregations after each colon
  const act = kind === 'field' && valueName === 'specs' ? '_infra_field_specs' : kind === undefined ? '' : action(kind, words);
  const value = verbosity
    ? `::level:(${VERBOSITY_LEVELS.join(' ')})`
    : kind === undefined
      ? ''
      : `${spec.flags.includes('[') ? '::' : ':'}${escape(valueName)}:${act}`;
  return flags.map((flag) => {
    // a value may follow in the same word (`-j2`, `--iterations=3`) or in the next
    const joined = kind === undefined || verbosity ? '' : flag.startsWith('--') ? '=' : '+';
    return sh(`${exclude}${flag}${joined}${desc}${value}`);
  });
}

/** `_arguments` specs of a command's positional arguments. */
function positionalSpecs(cmd: CompletionCommand, words: Record<CompletionKind, string>): string[] {
  return cmd.positional.map((kind, i) => {
    const last = i === cmd.positional.length - 1 && cmd.variadic;
    return sh(`${last ? '*' : i + 1}:${kind === 'none' ? 'argument' : kind}:${action(kind, words)}`);
  });
}

/**
 * The zsh completion script: a native `_infra` function (not the bash one through bashcompinit)
 * built from the same option declarations, with every command's and option's description, the
 * values of enumerated options, names of targets, instances and packages, and the global options
 * before or after the command. Works both sourced (`source <(infra completion zsh)`) and installed
 * as `_infra` in a directory of `$fpath`.
 */
export function zshScript(commands: readonly CompletionCommand[], words: Record<CompletionKind, string>): string {
  const globals = globalOptions(commands).flatMap((o) => optionSpecs(o, '', words));
  const lines = [
    '#compdef infra',
    '# zsh completion for infra',
    '_infra_field_specs() {',
    "  if compset -P '*:'; then",
    `    compadd -q -S : -- ${words.aggregation}`,
    '  else',
    `    compadd -q -S : -- ${words.field}`,
    '  fi',
    '}',
    '_infra() {',
    '  local curcontext=$curcontext state state_descr line ret=1',
    '  typeset -A opt_args',
    `  local -a globals=(\n    ${globals.join('\n    ')}\n  )`,
    "  _arguments -C -s : $globals '1: :->command' '*:: :->args' && ret=0",
    '  case $state in',
    '    command)',
    `      local -a commands=(\n        ${commands.map((c) => sh(`${c.name}:${c.description ?? ''}`)).join('\n        ')}\n      )`,
    "      _describe -t commands 'infra command' commands && ret=0",
    '      ;;',
    '    args)',
    '      curcontext=${curcontext%:*:*}:infra-$words[1]:',
    '      case $words[1] in',
  ];
  for (const cmd of commands) {
    const specs = [...cmd.options.flatMap((o) => optionSpecs(o, cmd.name, words)), ...positionalSpecs(cmd, words)];
    lines.push(
      `        (${cmd.name})`,
      `          _arguments -s : \\\n            ${specs.join(' \\\n            ')} && ret=0`,
      '          ;;',
    );
  }
  lines.push(
    '      esac',
    '      ;;',
    '  esac',
    '  return ret',
    '}',
    // autoloaded from $fpath: complete now; sourced: register
    'if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then',
    '  _infra "$@"',
    'else',
    '  compdef _infra infra',
    'fi',
  );
  return lines.join('\n') + '\n';
}
