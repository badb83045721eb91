import { constants } from 'node:os';

/**
 * How a test program ended: a sanitizer's error report, the mitigation's own exit code, a crash
 * by a signal, another non-zero exit, the time limit, or a clean exit (status 0).
 */
export type Ending = 'sanitizer' | 'mitigation' | 'signal' | 'exit' | 'timeout' | 'clean';

export interface ProgramEnding {
  ending: Ending;
  /** The sanitizer that reported (address, leak, undefined, thread, memory, hwaddress). */
  sanitizer?: string;
  /** The error kind it reported: heap-buffer-overflow, double-free, memory-leak, `load of null pointer`... */
  error?: string;
  /** The signal that ended the program (SIGSEGV), also when a sanitizer's handler caught it. */
  signal?: string;
}

/** What an ending means for a bad program (should be stopped) or a good one (should exit 0). */
export type Verdict = 'detected' | 'crashed' | 'hung' | 'missed' | 'clean' | 'false-positive' | 'failed';

const REPORT = /(?:ERROR|WARNING): (AddressSanitizer|LeakSanitizer|ThreadSanitizer|MemorySanitizer|HWAddressSanitizer): (.+)/;
const UBSAN = /: runtime error: (.+)/;
const SANITIZER_NAMES: Record<string, string> = {
  AddressSanitizer: 'address',
  LeakSanitizer: 'leak',
  ThreadSanitizer: 'thread',
  MemorySanitizer: 'memory',
  HWAddressSanitizer: 'hwaddress',
};
// a sanitizer's handler for a fatal signal reports the signal, not a memory error it found
const DEADLY: Record<string, string> = {
  SEGV: 'SIGSEGV',
  BUS: 'SIGBUS',
  FPE: 'SIGFPE',
  ILL: 'SIGILL',
  ABRT: 'SIGABRT',
  'stack-overflow': 'SIGSEGV',
};

function reportedError(sanitizer: string, message: string): string {
  if (sanitizer === 'LeakSanitizer' && /detected memory leaks/.test(message)) return 'memory-leak';
  if (/^attempting double-free/.test(message)) return 'double-free';
  if (/^attempting free on address which was not malloc/.test(message)) return 'bad-free';
  return message.split(/[\s:(]/)[0]!;
}

/** UBSan's message without the values: `load of null pointer of type 'int'` -> `load of null pointer`. */
function ubsanError(message: string): string {
  return message
    .replace(/\s*(of type|for type|'|0x|-?\d).*$/, '')
    .trim()
    .slice(0, 60);
}

function signalName(exitcode: number): string | undefined {
  const n = exitcode - 128;
  return Object.entries(constants.signals).find(([, v]) => v === n)?.[0];
}

/** Reads how a program ended from its exit status, whether it hung, and its standard error. */
export function classifyEnding(exitcode: number, hung: boolean, stderr: string, mitigationReturnCode?: number): ProgramEnding {
  if (hung) return { ending: 'timeout' };
  const report = REPORT.exec(stderr);
  if (report) {
    const [, name, message] = report as unknown as [string, string, string];
    const error = reportedError(name, message);
    const sanitizer = SANITIZER_NAMES[name]!;
    if (DEADLY[error]) return { ending: 'signal', sanitizer, error, signal: DEADLY[error] };
    return { ending: 'sanitizer', sanitizer, error };
  }
  const ub = UBSAN.exec(stderr);
  if (ub) return { ending: 'sanitizer', sanitizer: 'undefined', error: ubsanError(ub[1]!) };
  if (mitigationReturnCode !== undefined && exitcode === mitigationReturnCode) return { ending: 'mitigation' };
  if (exitcode > 128 && exitcode < 128 + 65) {
    const signal = signalName(exitcode);
    return signal ? { ending: 'signal', signal } : { ending: 'exit' };
  }
  return { ending: exitcode === 0 ? 'clean' : 'exit' };
}

/**
 * A bad program is detected when the instrumentation stopped it (a sanitizer's report or the
 * mitigation's exit code); a crash or other failure without one is `crashed` (it failed anyway,
 * as it may without any defense), a hang is `hung`, a clean exit `missed`. A good program should
 * exit cleanly; stopped by the instrumentation it is a `false-positive`, otherwise `failed`.
 */
export function verdictOf(kind: 'good' | 'bad', ending: Ending): Verdict {
  const stopped = ending === 'sanitizer' || ending === 'mitigation';
  if (kind === 'good') return ending === 'clean' ? 'clean' : stopped ? 'false-positive' : 'failed';
  if (stopped) return 'detected';
  if (ending === 'timeout') return 'hung';
  return ending === 'clean' ? 'missed' : 'crashed';
}
