import { UserError } from '../core/errors.js';
import type { Setup } from '../core/setup.js';

/**
 * A completion script for bash or zsh. Commands and the setup's target and instance names are
 * completed; install with `infra completion bash > ~/.local/share/bash-completion/completions/infra`
 * or `source <(infra completion zsh)`.
 */
export function completion(setup: Setup, shell: string, commandNames: string[]): string {
  const commands = [...commandNames, ...setup.commands.keys()].join(' ');
  const targets = [...setup.targets.keys()].join(' ');
  const instances = [...setup.instances.keys()].join(' ');
  if (shell === 'bash') {
    return `# bash completion for infra
_infra() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  local cmd=\${COMP_WORDS[1]}
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${commands}" -- "$cur") ); return
  fi
  case "$cur" in -*) COMPREPLY=( $(compgen -W "--help --verbosity --jobs --parallel --parallelmax --iterations --build --dry-run --clean --deps-only --force-rebuild-deps" -- "$cur") ); return;; esac
  case "$cmd" in
    build|run|report)
      if [ "$COMP_CWORD" -eq 2 ]; then COMPREPLY=( $(compgen -W "${targets}" -- "$cur") );
      elif [ "$cmd" = report ]; then COMPREPLY=( $(compgen -d -- "$cur") );
      else COMPREPLY=( $(compgen -W "${instances}" -- "$cur") ); fi;;
    exec-hook) COMPREPLY=( $(compgen -W "pre-build post-build pre-run post-run ${instances}" -- "$cur") );;
    completion) COMPREPLY=( $(compgen -W "bash zsh" -- "$cur") );;
    *) COMPREPLY=( $(compgen -f -- "$cur") );;
  esac
}
complete -F _infra infra
`;
  }
  if (shell === 'zsh') {
    return `#compdef infra
_infra() {
  local -a cmds targets instances
  cmds=(${commands})
  targets=(${targets})
  instances=(${instances})
  if (( CURRENT == 2 )); then _describe 'command' cmds; return; fi
  case $words[2] in
    build|run|report)
      if (( CURRENT == 3 )); then _describe 'target' targets;
      elif [[ $words[2] == report ]]; then _files -/;
      else _describe 'instance' instances; fi;;
    completion) _values 'shell' bash zsh;;
    *) _files;;
  esac
}
compdef _infra infra
`;
  }
  throw new UserError(`unknown shell '${shell}'; valid shells: bash, zsh`, { exitCode: 2 });
}
