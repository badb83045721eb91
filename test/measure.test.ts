import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { killAll } from '../src/exec/children.js';
import { ensureMeasureHelper, executeMeasured, type MeasureSpec } from '../src/exec/measure.js';
import type { ExecutionSettings } from '../src/run/settings.js';

const dir = mkdtempSync(join(tmpdir(), 'infra-measure-test-'));
let helper: string;

/** Compiles a C program from inline source and returns its path. */
function compile(name: string, source: string): string {
  const src = join(dir, `${name}.c`);
  const bin = join(dir, name);
  writeFileSync(src, source);
  execFileSync('cc', ['-O1', '-o', bin, src]);
  return bin;
}

function spec(name: string, argv: string[], extra: Partial<MeasureSpec> & ExecutionSettings = {}): MeasureSpec {
  const { timeout, linger, cpus, nothp, ...rest } = extra;
  return {
    argv,
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdoutPath: join(dir, 'logs', `${name}.stdout`),
    stderrPath: join(dir, 'logs', `${name}.stderr`),
    execution: { timeout, linger, cpus, nothp },
    ...rest,
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// touches every page so the memory is resident, and uses it so the compiler keeps it
const ALLOC = `
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
  size_t n = (size_t)atol(argc > 1 ? argv[1] : "100") << 20;
  volatile char *p = malloc(n);
  memset((char *)p, 1, n);
  return p[n / 2] - 1;
}`;

before(async () => {
  helper = await ensureMeasureHelper(join(dir, 'build'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('measurement helper', () => {
  test('is built once and cached by the hash of its source', async () => {
    assert.ok(existsSync(helper));
    assert.match(helper, /\.infra\/measure-[0-9a-f]{16}$/);
    assert.equal(await ensureMeasureHelper(join(dir, 'build')), helper);
  });

  test('peak RSS of a 100 MB program agrees with /usr/bin/time within 2%', async () => {
    const alloc = compile('alloc', ALLOC);
    const r = await executeMeasured(spec('alloc', [alloc, '100']), helper);
    assert.equal(r.status, 'ok', r.reason);
    // /usr/bin/time prints on stderr; the shell swaps the streams so it can be captured
    const reference = Number(execFileSync('sh', ['-c', `/usr/bin/time -f %M ${alloc} 100 2>&1 >/dev/null`], { encoding: 'utf8' }).trim());
    const ours = r.measurement!.maxrss;
    assert.ok(ours > 100 * 1024, `maxrss ${ours} KiB should cover 100 MiB`);
    assert.ok(Math.abs(ours - reference) / reference < 0.02, `ours ${ours} KiB vs time -v ${reference} KiB`);
    if (r.measurement!.cgroupPeak !== undefined) assert.ok(r.measurement!.cgroupPeak > 100 * 1024);
    assert.ok(r.measurement!.minflt > 20000, 'touching 100 MB takes many page faults');
  });

  test('a segfault is reported as crashed, in words', async () => {
    const segv = compile('segv', 'int main(void) { volatile int *p = 0; return *p; }');
    const r = await executeMeasured(spec('segv', [segv]), helper);
    assert.equal(r.status, 'crashed');
    assert.equal(r.signal, 'SIGSEGV');
    assert.equal(r.exitCode, null);
    assert.match(r.reason!, /killed by SIGSEGV \(segmentation fault\)/);
    assert.ok(r.measurement, 'a crash is still measured');
  });

  test('a timeout kills the whole tree, including forked children', async () => {
    const pidfile = join(dir, 'bg.pid');
    const r = await executeMeasured(spec('sleep', ['sh', '-c', `sleep 300 & echo $! > ${pidfile}; sleep 300`], { timeout: 1 }), helper);
    assert.equal(r.status, 'timeout');
    assert.match(r.reason!, /timed out/);
    assert.ok(r.measurement!.runtime >= 1 && r.measurement!.runtime < 3, `runtime ${r.measurement!.runtime}`);
    const bg = Number(readFileSync(pidfile, 'utf8'));
    assert.ok(bg > 0);
    assert.equal(alive(bg), false, `background child ${bg} must be gone`);
  });

  test('a child that outlives its parent is waited for and its memory counted', async () => {
    const forker = compile(
      'forker',
      `#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(void) {
  if (fork() == 0) {
    usleep(200000); /* the parent has exited by now */
    size_t n = 50u << 20;
    volatile char *p = malloc(n);
    memset((char *)p, 1, n);
    return p[7] - 1;
  }
  return 0;
}`,
    );
    const r = await executeMeasured(spec('forker', [forker]), helper);
    assert.equal(r.status, 'ok', r.reason);
    assert.ok(r.measurement!.maxrss >= 50 * 1024, `maxrss ${r.measurement!.maxrss} KiB should cover the 50 MiB child`);
    // wall time is the main process's; it did not wait for its child
    assert.ok(r.measurement!.runtime < 0.2, `runtime ${r.measurement!.runtime}`);
  });

  test('maxrss is the largest single process, cgroupPeak the whole tree', async () => {
    // two processes of 60 MiB each, resident at the same time (a pipe makes them meet)
    const twins = compile(
      'twins',
      `#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  int ready[2], hold[2];
  if (pipe(ready) || pipe(hold)) return 2;
  size_t n = 60u << 20;
  pid_t pid = fork();
  volatile char *p = malloc(n);
  memset((char *)p, 1, n);
  char c = 0;
  if (pid == 0) {
    if (write(ready[1], "x", 1) != 1) return 2;
    return read(hold[0], &c, 1) == 1 ? p[7] - 1 : 2;
  }
  if (read(ready[0], &c, 1) != 1) return 2;
  if (write(hold[1], "x", 1) != 1) return 2;
  int st;
  waitpid(pid, &st, 0);
  return WEXITSTATUS(st) | (p[7] - 1);
}`,
    );
    const r = await executeMeasured(spec('twins', [twins]), helper);
    assert.equal(r.status, 'ok', r.reason);
    const m = r.measurement!;
    assert.ok(m.maxrss >= 60 * 1024 && m.maxrss < 90 * 1024, `maxrss ${m.maxrss} KiB: one process, not the sum`);
    if (m.cgroupPeak !== undefined) assert.ok(m.cgroupPeak >= 115 * 1024, `cgroupPeak ${m.cgroupPeak} KiB covers both`);
  });

  // a daemon: double fork, new session, so neither the process group nor the parent link holds it
  const DAEMON = `#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (fork() == 0) {
    setsid();
    if (fork() == 0) {
      FILE *f = fopen(argv[1], "w");
      fprintf(f, "%d", (int)getpid());
      fclose(f);
      sleep(60);
      return 0;
    }
    return 0;
  }
  return 0;
}`;

  for (const noCgroup of [false, true]) {
    test(`a daemon left running is killed after the grace period${noCgroup ? ' (no cgroup)' : ''}`, { timeout: 30_000 }, async () => {
      const daemon = compile('daemon', DAEMON);
      const pidfile = join(dir, `daemon-${noCgroup}.pid`);
      const started = Date.now();
      const r = await executeMeasured(spec('daemon', [daemon, pidfile], { linger: 1, noCgroup }), helper);
      const elapsed = (Date.now() - started) / 1000;
      assert.equal(r.status, 'ok', r.reason);
      assert.equal(r.exitCode, 0);
      assert.equal(r.reason, 'ok, but killed 1 process left running 1 s after the main process exited');
      assert.ok(elapsed >= 1 && elapsed < 5, `ended after ${elapsed} s`);
      assert.ok(r.measurement!.runtime < 0.5, `runtime ${r.measurement!.runtime} is the main process's`);
      const pid = Number(readFileSync(pidfile, 'utf8'));
      assert.ok(pid > 0);
      assert.equal(alive(pid), false, `daemon ${pid} must be gone`);
    });
  }

  test('a timeout after the main process exited counts as lingering, not as a timeout', { timeout: 30_000 }, async () => {
    const r = await executeMeasured(
      spec('linger-timeout', ['sh', '-c', 'sleep 60 & sleep 60 & exit 4'], { linger: 30, timeout: 1 }),
      helper,
    );
    assert.equal(r.status, 'failed');
    assert.equal(r.reason, 'exit status 4; killed 2 processes left running 30 s after the main process exited');
  });

  test('a missing program is an error that says why', async () => {
    const r = await executeMeasured(spec('missing', ['no-such-program-xyz', 'arg']), helper);
    assert.equal(r.status, 'error');
    assert.equal(r.measurement, null);
    assert.match(r.reason!, /no-such-program-xyz.*No such file or directory/);
  });

  test('a non-zero exit is failed; stdin, stdout, stderr, cwd and env are wired', async () => {
    const input = join(dir, 'input.txt');
    writeFileSync(input, 'hello from stdin\n');
    const r = await executeMeasured(
      spec('io', ['sh', '-c', 'cat; echo "$GREETING in $(pwd)"; echo oops >&2; exit 3'], {
        stdinFile: input,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GREETING: 'hi' },
        nothp: true,
        cpus: '0',
      }),
      helper,
    );
    assert.equal(r.status, 'failed');
    assert.equal(r.exitCode, 3);
    assert.match(r.reason!, /exit status 3/);
    assert.equal(readFileSync(r.stdoutPath, 'utf8'), `hello from stdin\nhi in ${dir}\n`);
    assert.equal(readFileSync(r.stderrPath, 'utf8'), 'oops\n');
  });

  test('affinity and THP settings reach the benchmark', async () => {
    const r = await executeMeasured(
      spec('status', ['sh', '-c', 'grep -E "^(Cpus_allowed_list|THP_enabled)" /proc/self/status'], {
        cpus: '0',
        nothp: true,
      }),
      helper,
    );
    assert.equal(r.status, 'ok', r.reason);
    const out = readFileSync(r.stdoutPath, 'utf8');
    assert.match(out, /Cpus_allowed_list:\s+0\n/);
    assert.match(out, /THP_enabled:\s+0/);
  });

  test('an interrupt (killAll) reaches the benchmark through the helper', async () => {
    const started = Date.now();
    const pending = executeMeasured(spec('interrupted', ['sleep', '30']), helper);
    await new Promise((r) => setTimeout(r, 300));
    killAll('SIGTERM');
    const r = await pending;
    assert.equal(r.status, 'crashed');
    assert.equal(r.signal, 'SIGTERM');
    assert.match(r.reason!, /after an interrupt/);
    assert.ok(Date.now() - started < 5000);
  });
});
