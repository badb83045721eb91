import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { killAll } from '../src/exec/children.js';
import { ensureMeasureHelper, executeMeasured, type MeasureSpec } from '../src/exec/measure.js';
import { MeasureService } from '../src/exec/measure-service.js';
import type { ExecutionResult } from '../src/core/runner.js';
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
});

/** The one-shot form (a helper per execution, as remote backends use it) and the served form measure alike. */
const services: MeasureService[] = [];
const MODES: Array<[string, (s: MeasureSpec) => Promise<ExecutionResult>]> = [
  ['one helper per execution', (s) => executeMeasured(s, helper)],
  [
    'a served helper',
    (s) => {
      services[0] ??= new MeasureService(helper);
      return services[0].execute(s);
    },
  ],
];
after(() => Promise.all(services.map((s) => s.close())));

for (const [mode, execute] of MODES) {
  describe(`measurement helper: ${mode}`, () => {
    test('peak RSS of a 100 MB program agrees with /usr/bin/time within 2%', async () => {
      const alloc = compile('alloc', ALLOC);
      const r = await execute(spec('alloc', [alloc, '100']));
      assert.equal(r.status, 'ok', r.reason);
      // /usr/bin/time prints on stderr; the shell swaps the streams so it can be captured
      const reference = Number(execFileSync('sh', ['-c', `/usr/bin/time -f %M ${alloc} 100 2>&1 >/dev/null`], { encoding: 'utf8' }).trim());
      const ours = r.measurement!.maxrss;
      assert.ok(ours > 100 * 1024, `maxrss ${ours} KiB should cover 100 MiB`);
      assert.ok(Math.abs(ours - reference) / reference < 0.02, `ours ${ours} KiB vs time -v ${reference} KiB`);
      if (r.measurement!.cgroupPeak !== undefined) assert.ok(r.measurement!.cgroupPeak > 100 * 1024);
      assert.ok(r.measurement!.minflt > 20000, 'touching 100 MB takes many page faults');
    });

    test("a program name is looked up on the benchmark's PATH, not the helper's", async () => {
      const tools = join(dir, `tools-${mode.replace(/\W/g, '')}`);
      mkdirSync(tools, { recursive: true });
      writeFileSync(join(tools, 'only-here'), '#!/bin/sh\necho found on PATH\n', { mode: 0o755 });
      const r = await execute(spec('path', ['only-here'], { env: { PATH: `${tools}:/usr/bin:/bin` } }));
      assert.equal(r.status, 'ok', r.reason);
      assert.equal(readFileSync(r.stdoutPath, 'utf8'), 'found on PATH\n');
      // and the next execution, with the helper's own environment back, still finds /bin/true
      assert.equal((await execute(spec('after-path', ['true']))).status, 'ok');
    });

    test('a segfault is reported as crashed, in words', async () => {
      const segv = compile('segv', 'int main(void) { volatile int *p = 0; return *p; }');
      const r = await execute(spec('segv', [segv]));
      assert.equal(r.status, 'crashed');
      assert.equal(r.signal, 'SIGSEGV');
      assert.equal(r.exitCode, null);
      assert.match(r.reason!, /killed by SIGSEGV \(segmentation fault\)/);
      assert.ok(r.measurement, 'a crash is still measured');
    });

    test('a timeout kills the whole tree, including forked children', async () => {
      const pidfile = join(dir, 'bg.pid');
      const r = await execute(spec('sleep', ['sh', '-c', `sleep 300 & echo $! > ${pidfile}; sleep 300`], { timeout: 1 }));
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
      const r = await execute(spec('forker', [forker]));
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
      const r = await execute(spec('twins', [twins]));
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
        const r = await execute(spec('daemon', [daemon, pidfile], { linger: 1, noCgroup }));
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
      const r = await execute(spec('linger-timeout', ['sh', '-c', 'sleep 60 & sleep 60 & exit 4'], { linger: 30, timeout: 1 }));
      assert.equal(r.status, 'failed');
      assert.equal(r.reason, 'exit status 4; killed 2 processes left running 30 s after the main process exited');
    });

    test('a missing program is an error that says why', async () => {
      const r = await execute(spec('missing', ['no-such-program-xyz', 'arg']));
      assert.equal(r.status, 'error');
      assert.equal(r.measurement, null);
      assert.match(r.reason!, /no-such-program-xyz.*No such file or directory/);
    });

    test('a non-zero exit is failed; stdin, stdout, stderr, cwd and env are wired', async () => {
      const input = join(dir, 'input.txt');
      writeFileSync(input, 'hello from stdin\n');
      const r = await execute(
        spec('io', ['sh', '-c', 'cat; echo "$GREETING in $(pwd)"; echo oops >&2; exit 3'], {
          stdinFile: input,
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GREETING: 'hi' },
          nothp: true,
          cpus: '0',
        }),
      );
      assert.equal(r.status, 'failed');
      assert.equal(r.exitCode, 3);
      assert.match(r.reason!, /exit status 3/);
      assert.equal(readFileSync(r.stdoutPath, 'utf8'), `hello from stdin\nhi in ${dir}\n`);
      assert.equal(readFileSync(r.stderrPath, 'utf8'), 'oops\n');
    });

    test('affinity and THP settings reach the benchmark', async () => {
      const r = await execute(
        spec('status', ['sh', '-c', 'grep -E "^(Cpus_allowed_list|THP_enabled)" /proc/self/status'], {
          cpus: '0',
          nothp: true,
        }),
      );
      assert.equal(r.status, 'ok', r.reason);
      const out = readFileSync(r.stdoutPath, 'utf8');
      assert.match(out, /Cpus_allowed_list:\s+0\n/);
      assert.match(out, /THP_enabled:\s+0/);
    });

    test('an interrupt (killAll) reaches the benchmark through the helper', async () => {
      const started = Date.now();
      const pending = execute(spec('interrupted', ['sleep', '30']));
      await new Promise((r) => setTimeout(r, 300));
      killAll('SIGTERM');
      const r = await pending;
      assert.equal(r.status, 'crashed');
      assert.equal(r.signal, 'SIGTERM');
      assert.match(r.reason!, /after an interrupt/);
      assert.ok(Date.now() - started < 5000);
    });
  });
}

describe('a served helper across executions', () => {
  test('each execution is measured on its own: rusage, maxrss and the cgroup do not carry over', async () => {
    const service = new MeasureService(helper);
    try {
      const alloc = compile('alloc-served', ALLOC);
      const big = await service.execute(spec('served-big', [alloc, '100']));
      assert.equal(big.status, 'ok', big.reason);
      const small = await service.execute(spec('served-small', ['/bin/true']));
      assert.equal(small.status, 'ok', small.reason);
      assert.equal(service.size, 1, 'one helper served both');
      const [b, s] = [big.measurement!, small.measurement!];
      assert.ok(b.maxrss > 100 * 1024, `maxrss ${b.maxrss} KiB`);
      assert.ok(s.maxrss < 20 * 1024, `the small program's maxrss (${s.maxrss} KiB) is its own`);
      assert.ok(s.minflt < b.minflt / 10, `minflt ${s.minflt} is not a running sum (the big one had ${b.minflt})`);
      assert.ok(s.utime + s.stime < b.utime + b.stime, 'CPU times are per execution');
      if (b.cgroupPeak !== undefined) {
        assert.ok(b.cgroupPeak > 100 * 1024);
        assert.ok(s.cgroupPeak! < 20 * 1024, `a fresh cgroup for the small one (peak ${s.cgroupPeak} KiB)`);
      }
    } finally {
      await service.close();
    }
    assert.equal(service.size, 0, 'close ends the helpers');
  });

  test('one helper per execution running at once, started as needed', async () => {
    const service = new MeasureService(helper);
    try {
      const results = await Promise.all([0, 1, 2].map((i) => service.execute(spec(`served-par-${i}`, ['sleep', '0.3']))));
      for (const r of results) assert.equal(r.status, 'ok', r.reason);
      assert.equal(service.size, 3);
      const again = await service.execute(spec('served-again', ['/bin/true']));
      assert.equal(again.status, 'ok');
      assert.equal(service.size, 3, 'an idle helper is reused');
    } finally {
      await service.close();
    }
  });

  test('a helper killed outright takes its benchmark with it; the execution is an error, the next gets a new helper', async () => {
    const service = new MeasureService(helper);
    try {
      const pidfile = join(dir, 'served-killed.pid');
      const pending = service.execute(spec('served-killed', ['sh', '-c', `echo $$ > ${pidfile}; exec sleep 30`]));
      for (let i = 0; i < 100 && !existsSync(pidfile); i++) await new Promise((r) => setTimeout(r, 50));
      const bench = Number(readFileSync(pidfile, 'utf8'));
      const helperPid = Number(
        readFileSync(`/proc/${bench}/stat`, 'utf8')
          .replace(/^\d+ \(.*\) /, '')
          .split(' ')[1],
      );
      process.kill(helperPid, 'SIGKILL');
      const r = await pending;
      assert.equal(r.status, 'error');
      assert.match(r.reason!, /measurement interrupted \(killed by SIGKILL\)/);
      for (let i = 0; i < 100 && alive(bench); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(alive(bench), false, 'PR_SET_PDEATHSIG killed the benchmark');
      const next = await service.execute(spec('served-next', ['/bin/true']));
      assert.equal(next.status, 'ok', next.reason);
    } finally {
      await service.close();
    }
  });

  test('a request the helper cannot parse is a bug, said plainly', async () => {
    const service = new MeasureService(helper);
    try {
      await assert.rejects(service.execute(spec('served-bad-cpus', ['/bin/true'], { cpus: 'zero' })), /malformed CPU list/);
    } finally {
      await service.close();
    }
  });
});

test('a --result path that is not a regular file is written through, not replaced', async () => {
  const fifo = join(dir, 'result.fifo');
  execFileSync('mkfifo', [fifo]);
  // the reader is started first: opening a FIFO for writing waits for one
  const reader = new Promise<string>((resolve, reject) => {
    execFile('cat', [fifo], { timeout: 10_000 }, (err, out) => (err ? reject(err) : resolve(out)));
  });
  execFileSync(helper, ['--stdout', join(dir, 'fifo.out'), '--stderr', join(dir, 'fifo.err'), '--result', fifo, '--', '/bin/true']);
  const json = JSON.parse(await reader) as { status?: string; runtime?: number };
  assert.equal(typeof json.runtime, 'number');
  assert.ok(lstatSync(fifo).isFIFO(), 'the FIFO is still a FIFO');
});

/** The pids of this process's served helpers now. */
function servedHelpers(): Set<number> {
  const pids = new Set<number>();
  for (const task of readdirSync(`/proc/${process.pid}/task`)) {
    const children = readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8').trim();
    for (const pid of children ? children.split(' ').map(Number) : []) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').endsWith('\u0000--serve\u0000')) pids.add(pid);
      } catch {
        // gone meanwhile
      }
    }
  }
  return pids;
}

/** The one served helper started since `before` was taken. */
function startedSince(before: Set<number>): number {
  const started = [...servedHelpers()].filter((p) => !before.has(p));
  assert.equal(started.length, 1, 'the service started one helper');
  return started[0]!;
}

async function until(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(condition(), what);
}

describe('a held execution (one slot, the next execution given while one runs)', () => {
  test('is set up at once, starts only when the one before is released, and is measured the same', async () => {
    const service = new MeasureService(helper, 1);
    try {
      const alloc = compile('alloc-held', ALLOC);
      const first = service.execute(spec('held-first', ['sleep', '0.2']));
      const held = spec('held-second', [alloc, '100']);
      const second = service.execute(held);
      const a = await first;
      assert.equal(a.status, 'ok', a.reason);
      // the helper forks the held one and opens its output files while the first is recorded
      await until('the held execution was set up before its go', () => existsSync(held.stdoutPath));
      await new Promise((r) => setTimeout(r, 300));
      const released = Date.now();
      a.release();
      const b = await second;
      b.release();
      assert.equal(b.status, 'ok', b.reason);
      assert.equal(service.size, 1, 'one helper for both');
      assert.ok(b.startedAt! >= released - 2, `started ${b.startedAt! - released} ms after the release`);
      assert.ok(b.startedAt! - a.startedAt! > 450, 'not before the first was released');
      const reference = Number(execFileSync('sh', ['-c', `/usr/bin/time -f %M ${alloc} 100 2>&1 >/dev/null`], { encoding: 'utf8' }).trim());
      const ours = b.measurement!.maxrss;
      assert.ok(Math.abs(ours - reference) / reference < 0.02, `held: maxrss ${ours} KiB vs time -v ${reference} KiB`);
      assert.ok(b.measurement!.runtime < 0.25, `the wait for the go is not in the runtime (${b.measurement!.runtime} s)`);
      if (b.measurement!.cgroupPeak !== undefined) assert.ok(b.measurement!.cgroupPeak > 100 * 1024);
    } finally {
      await service.close();
    }
  });

  test('is set up while the one before still runs', async () => {
    const service = new MeasureService(helper, 1);
    try {
      let firstDone = false;
      const first = service.execute(spec('ahead-first', ['sleep', '0.5'])).then((r) => ((firstDone = true), r));
      await new Promise((r) => setTimeout(r, 100));
      const held = spec('ahead-second', ['/bin/true']);
      const second = service.execute(held);
      await until('the held execution was set up', () => existsSync(held.stdoutPath));
      assert.equal(firstDone, false, 'before the one before it ended');
      const a = await first;
      assert.equal(a.status, 'ok', a.reason);
      assert.ok(a.measurement!.runtime >= 0.5);
      a.release();
      const b = await second;
      b.release();
      assert.equal(b.status, 'ok', b.reason);
      assert.ok(b.startedAt! > a.startedAt! + 500);
    } finally {
      await service.close();
    }
  });

  test('waiting beside the one before, it is not of its tree: not counted as lingering, not killed on its timeout', async () => {
    const service = new MeasureService(helper, 1);
    try {
      const first = service.execute(spec('ahead-linger', ['sh', '-c', 'sleep 5 & exit 0'], { linger: 0.3 }));
      const second = service.execute(spec('ahead-after-linger', ['/bin/true']));
      const a = await first;
      assert.equal(a.status, 'ok', a.reason);
      assert.match(a.reason!, /killed 1 process left running 0\.3 s after/);
      a.release();
      const b = await second;
      assert.equal(b.status, 'ok', b.reason);
      const third = service.execute(spec('ahead-timeout', ['sleep', '5'], { timeout: 0.3 }));
      b.release();
      const fourth = service.execute(spec('ahead-after-timeout', ['/bin/true']));
      const c = await third;
      assert.equal(c.status, 'timeout', c.reason);
      c.release();
      const d = await fourth;
      d.release();
      assert.equal(d.status, 'ok', d.reason);
      assert.equal(service.size, 1);
    } finally {
      await service.close();
    }
  });

  test('one whose set-up fails while the one before runs is an error of its own', async () => {
    const service = new MeasureService(helper, 1);
    try {
      const first = service.execute(spec('ahead-ok', ['sleep', '0.3']));
      const second = service.execute(spec('ahead-bad-stdin', ['/bin/true'], { stdinFile: join(dir, 'no-such-input') }));
      const a = await first;
      assert.equal(a.status, 'ok', a.reason);
      assert.ok(a.measurement!.runtime >= 0.3);
      a.release();
      const b = await second;
      b.release();
      assert.equal(b.status, 'error');
      assert.match(b.reason!, /opening the standard input file/);
      const c = await service.execute(spec('ahead-after-bad', ['/bin/true']));
      c.release();
      assert.equal(c.status, 'ok', c.reason);
    } finally {
      await service.close();
    }
  });

  test("with a record template, a clean execution's record is written by the helper, which starts the next one itself", async () => {
    const service = new MeasureService(helper, 1);
    const file = join(dir, 'helper-records.jsonl');
    writeFileSync(file, '');
    const record = (name: string) => ({
      file,
      head: `{"name":${JSON.stringify(name)},"start":"`,
      middle: '","fields":{',
      tail: ',"extra":[1,"two"]}}',
    });
    try {
      const first = service.execute({ ...spec('rec-first', ['sleep', '0.2']), record: record('first') });
      const second = service.execute({ ...spec('rec-second', ['/bin/true']), record: record('second') });
      // no release: the helper wrote the first record, so the second starts without infra's go
      const a = await first;
      const b = await Promise.race([
        second,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the second waited for a go')), 5000)),
      ]);
      assert.equal(a.status, 'ok', a.reason);
      assert.equal(b.status, 'ok', b.reason);
      const text = readFileSync(file, 'utf8');
      for (const [r, name] of [
        [a, 'first'],
        [b, 'second'],
      ] as const) {
        assert.ok(r.recorded, `${name} was recorded by the helper`);
        assert.equal(text.slice(r.recorded.at, r.recorded.at + r.recorded.line.length), r.recorded.line);
        const line = JSON.parse(r.recorded.line) as { name: string; start: string; fields: Record<string, unknown> };
        assert.equal(JSON.stringify(line) + '\n', r.recorded.line, 'printed as JSON.stringify prints it');
        assert.equal(line.name, name);
        assert.equal(line.start, new Date(r.startedAt!).toISOString());
        assert.deepEqual(Object.keys(line.fields), [...Object.keys(r.measurement!), 'extra']);
        for (const [k, v] of Object.entries(r.measurement!)) assert.equal(line.fields[k], v, k);
      }
      assert.equal(text.length, a.recorded!.line.length + b.recorded!.line.length);
      // not clean: left to infra
      for (const [name, argv] of [
        ['failed', ['false']],
        ['talked', ['echo', 'hi']],
      ] as const) {
        const r = await service.execute({ ...spec(`rec-${name}`, [...argv]), record: record(name) });
        assert.equal(r.recorded, undefined, name);
        r.release();
      }
      assert.equal(readFileSync(file, 'utf8'), text);
    } finally {
      await service.close();
    }
  });

  test('infra appends a record only while no execution that may write its own runs', async () => {
    const service = new MeasureService(helper, 1);
    const file = join(dir, 'helper-records-2.jsonl');
    try {
      const first = service.execute({
        ...spec('gate-first', ['sleep', '0.3']),
        record: { file, head: '{"s":"', middle: '","f":{', tail: '}}' },
      });
      let reported = false;
      void first.then(() => (reported = true));
      let wroteBeforeReport: boolean | undefined;
      const appended = service.appendRecord(() => (wroteBeforeReport = !reported));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(wroteBeforeReport, undefined, 'not while it runs');
      await appended;
      assert.ok((await first).recorded);
      assert.equal(wroteBeforeReport, true, 'written as soon as it reported, before anything else');
      let now = false;
      await service.appendRecord(() => (now = true));
      assert.equal(now, true, 'at once when nothing runs');
    } finally {
      await service.close();
    }
  });

  test('a place kept for a prepare step comes only after the release, and starts at once', async () => {
    const service = new MeasureService(helper, 1);
    try {
      const a = await service.execute(spec('reserve-first', ['/bin/true']));
      let kept = false;
      const reservation = service.reserve().then((r) => ((kept = true), r));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(kept, false, 'no place while the first is not recorded');
      a.release();
      const place = await reservation;
      const b = await service.execute(spec('reserve-second', ['/bin/true']), place);
      b.release();
      assert.equal(b.status, 'ok', b.reason);
      assert.equal(service.size, 1);
    } finally {
      await service.close();
    }
  });

  test('an interrupt while it waits for its go: it never starts, and says so', async () => {
    const before = servedHelpers();
    const service = new MeasureService(helper, 1);
    try {
      const marker = join(dir, 'held-interrupted.marker');
      const first = service.execute(spec('held-int-first', ['/bin/true']));
      const held = spec('held-int-second', ['touch', marker]);
      const second = service.execute(held);
      const a = await first;
      await until('the held execution was set up', () => existsSync(held.stdoutPath));
      process.kill(startedSince(before), 'SIGTERM');
      const b = await second;
      a.release();
      assert.equal(b.notStarted, true);
      assert.equal(b.status, 'error');
      assert.match(b.reason!, /stopped before it started/);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(existsSync(marker), false, 'the program never ran');
    } finally {
      await service.close();
    }
  });

  test('an interrupt while the one before runs: that one is interrupted, the held one never starts', async () => {
    const before = servedHelpers();
    const service = new MeasureService(helper, 1);
    try {
      const marker = join(dir, 'held-int2.marker');
      const first = service.execute(spec('held-int2-first', ['sleep', '5']));
      const second = service.execute(spec('held-int2-second', ['touch', marker]));
      await new Promise((r) => setTimeout(r, 200));
      process.kill(startedSince(before), 'SIGTERM');
      const a = await first;
      a.release();
      assert.equal(a.status, 'crashed', a.reason);
      assert.match(a.reason!, /after an interrupt/);
      const b = await second;
      assert.equal(b.notStarted, true, b.reason);
      assert.equal(existsSync(marker), false, 'the program never ran');
    } finally {
      await service.close();
    }
  });
});
