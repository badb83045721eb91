import { spawn, type ChildProcess } from 'node:child_process';
import { processIdentity, type ProcessIdentity } from '../util/process.js';

/**
 * A tiny supervisor process that outlives infra by a moment when infra dies abruptly
 * (kill -9, an out-of-memory kill): it learns the process group of every child infra
 * starts, over a pipe, and when that pipe closes (the kernel closes it however infra ended) it
 * kills every group still registered with SIGKILL and waits until they are gone before it
 * exits itself. Node cannot set PR_SET_PDEATHSIG on its children; this is the portable
 * equivalent for process groups.
 *
 * While the supervisor of a dead infra process still runs, that process's children may still
 * run too: a lock left behind is only taken over once both are gone (src/core/lock.ts).
 *
 * A child that stops its own tree when infra dies (the measurement helper: it has
 * PR_SET_PDEATHSIG) is registered with `ownCleanup`: the supervisor then gives it up to
 * 5 s to do so before it kills it.
 *
 * It is a POSIX shell script (no binary to build; dash's kill takes no `--`, so none is given); it ignores the terminal's signals, since
 * infra itself handles Ctrl-C and stops its children the ordinary way.
 */
const SCRIPT = `
trap '' INT TERM HUP QUIT
kill=' ' wait=' '
while read -r op pg; do
  case "$op" in
    +) kill="$kill$pg " ;;
    =) wait="$wait$pg " ;;
    -) case "$kill" in *" $pg "*) kill="\${kill%% $pg *} \${kill#* $pg }" ;; esac
       case "$wait" in *" $pg "*) wait="\${wait%% $pg *} \${wait#* $pg }" ;; esac ;;
  esac
done
for pg in $kill; do kill -KILL "-$pg" 2>/dev/null; done
for pg in $wait; do
  n=0
  while kill -0 "-$pg" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
done
for pg in $kill $wait; do
  while kill -0 "-$pg" 2>/dev/null; do kill -KILL "-$pg" 2>/dev/null; sleep 0.05; done
done
`;

let supervisor: ChildProcess | null = null;
let identity: ProcessIdentity | null = null;

function ensureSupervisor(): ChildProcess | null {
  if (supervisor) return supervisor;
  const child = spawn('/bin/sh', ['-c', SCRIPT, 'infra-supervisor'], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  // it must never keep infra alive, nor turn a missing /bin/sh into a crash
  child.on('error', () => {});
  child.stdin.on('error', () => {});
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  supervisor = child;
  if (child.pid !== undefined) identity = processIdentity(child.pid);
  return child;
}

/** The supervisor's pid and start time (started if needed), recorded in lock files. */
export function supervisorIdentity(): ProcessIdentity | null {
  ensureSupervisor();
  return identity;
}

/** Registers a child that leads its own process group: it is killed if infra dies. */
export function supervise(child: ChildProcess, ownCleanup = false): void {
  const pid = child.pid;
  if (pid === undefined) return;
  const sup = ensureSupervisor();
  if (!sup?.stdin?.writable) return;
  sup.stdin.write(`${ownCleanup ? '=' : '+'} ${pid}\n`);
  child.once('exit', () => {
    if (sup.stdin?.writable) sup.stdin.write(`- ${pid}\n`);
  });
}
