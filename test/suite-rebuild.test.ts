// When the built-in targets rebuild: a rebuilt runtime library (a build input named by the
// instance's configure) relinks what uses it and nothing else; a dry run changes nothing.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sha256File } from '../src/util/hash.ts';
import { makeProject, runInfra } from './helpers.ts';

const RUNTIME = '#include <stdio.h>\n__attribute__((constructor)) static void marker(void) { fputs("marker v1\\n", stderr); }\n';

function setupScript(tarball: string, sha256: string): string {
  return String.raw`
import { Setup, Gcc, Kernels, ProgramTarget, RuntimeLibrary, type Context } from 'instrumentation-infra';

const marker = new RuntimeLibrary({ name: 'marker', srcdir: 'runtime' });

/** gcc, with the marker runtime linked into every binary */
class GccMarker extends Gcc {
  override readonly name = 'gcc-marker';
  override dependencies() {
    return [...super.dependencies(), marker];
  }
  override configure(ctx: Context) {
    super.configure(ctx);
    marker.configure(ctx);
  }
}

// an upstream-like program: a release tarball with a Makefile
const tiny = new ProgramTarget({
  name: 'tiny',
  version: '1.0',
  source: { url: ${JSON.stringify(pathToFileURL(tarball).href)}, sha256: '${sha256}' },
  build: { kind: 'make', targets: ['tiny'], variables: (t) => ({ CC: t.cc, CFLAGS: t.cflags, LDFLAGS: t.ldflags }) },
  binaries: { tiny: 'tiny' },
  workloads: [{ name: 'hello', description: 'prints hello', plan: ({ bin }) => ({ argv: [bin.tiny!], check: () => {} }) }],
});

const setup = new Setup(import.meta.url);
setup.addTarget(new Kernels());
setup.addTarget(tiny);
setup.addInstance(new Gcc());
setup.addInstance(new GccMarker());
await setup.main();
`;
}

let dir = '';
const kernel = (inst: string) => join(dir, 'build/targets/kernels', inst, 'bin/sort');
const tiny = (inst: string) => join(dir, 'build/targets/tiny', inst, 'tiny/src/tiny');
const mtime = (file: string) => statSync(file).mtimeMs;

/** Every file under `root` (empty when it does not exist). */
function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => !d.isDirectory())
    .map((d) => join(d.parentPath, d.name));
}

function build(...args: string[]) {
  const r = runInfra(dir, ['build', ...args]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return r;
}

before(async () => {
  const fixtures = makeProject(
    {
      'tiny-1.0/tiny.c': '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n',
      'tiny-1.0/Makefile': 'tiny: tiny.c\n\t$(CC) $(CFLAGS) -o tiny tiny.c $(LDFLAGS)\n',
    },
    'infra-rebuild-src-',
  );
  const tarball = join(fixtures, 'tiny-1.0.tar.gz');
  execFileSync('tar', ['-czf', tarball, '-C', fixtures, 'tiny-1.0']);
  dir = makeProject({ 'setup.ts': setupScript(tarball, await sha256File(tarball)), 'runtime/marker.c': RUNTIME });
});

test('a dry run prints the build commands, exits 0 and changes nothing; a real build then builds', () => {
  const k = build('kernels', 'gcc', '--dry-run', '--benchmarks', 'sort', 'matmul');
  assert.match(k.stdout, new RegExp(`gcc .*-o ${kernel('gcc')} \\S*/benchmarks/kernels/sort\\.c`));
  assert.match(k.stdout, /\/benchmarks\/kernels\/matmul\.c/);
  const t = build('tiny', 'gcc', '--dry-run');
  assert.match(t.stdout, /download file:.*tiny-1\.0\.tar\.gz -> /);
  assert.match(t.stdout, /extract .*tiny-1\.0\.tar\.gz -> .*tiny\/gcc\/tiny\/src/);
  assert.match(t.stdout, /make .*CC=gcc .*tiny/);
  assert.deepEqual(filesUnder(join(dir, 'build/targets')), [], 'no binaries, stamps or sources after a dry run');

  build('kernels', 'gcc', '--benchmarks', 'sort');
  assert.ok(existsSync(kernel('gcc')));
  build('tiny', 'gcc');
  assert.equal(execFileSync(tiny('gcc'), { encoding: 'utf8' }), 'hello\n');
});

test('a dry run of an out-of-date program leaves its tree as it is', () => {
  const stamp = join(dir, 'build/targets/tiny/gcc/tiny/.infra-build');
  assert.ok(existsSync(stamp));
  rmSync(stamp); // out of date: the next build starts from a fresh tree
  const before = mtime(tiny('gcc'));
  build('tiny', 'gcc', '--dry-run');
  assert.equal(mtime(tiny('gcc')), before, 'the binary is still there, untouched');
  assert.ok(!existsSync(stamp), 'no stamp for a build that did not happen');
  build('tiny', 'gcc');
  assert.ok(existsSync(stamp));
  assert.notEqual(mtime(tiny('gcc')), before, 'the real build rebuilt it');
});

test('a changed runtime library rebuilds the binaries that link it, and nothing else', () => {
  build('kernels', 'gcc', 'gcc-marker', '--benchmarks', 'sort');
  build('tiny', 'gcc', 'gcc-marker');
  const stderrOf = (bin: string) => execFileSync('sh', ['-c', '"$0" 1 2>&1 >/dev/null', bin], { encoding: 'utf8' });
  assert.equal(stderrOf(tiny('gcc-marker')), 'marker v1\n');
  assert.equal(stderrOf(kernel('gcc-marker')), 'marker v1\n');
  const binaries = [kernel('gcc'), kernel('gcc-marker'), tiny('gcc'), tiny('gcc-marker')];
  const first = binaries.map(mtime);

  // nothing changed: nothing is rebuilt
  build('kernels', 'gcc', 'gcc-marker', '--benchmarks', 'sort');
  build('tiny', 'gcc', 'gcc-marker');
  assert.deepEqual(binaries.map(mtime), first);

  // the runtime changes: its package is rebuilt, and so is every binary it is linked into
  writeFileSync(join(dir, 'runtime/marker.c'), RUNTIME.replace('v1', 'v2'));
  build('kernels', 'gcc', 'gcc-marker', '--benchmarks', 'sort');
  build('tiny', 'gcc', 'gcc-marker');
  const second = binaries.map(mtime);
  assert.equal(second[0], first[0], 'gcc kernel untouched');
  assert.notEqual(second[1], first[1], 'gcc-marker kernel relinked');
  assert.equal(second[2], first[2], 'gcc tiny untouched');
  assert.notEqual(second[3], first[3], 'gcc-marker tiny rebuilt');
  assert.equal(stderrOf(tiny('gcc-marker')), 'marker v2\n');
  assert.equal(stderrOf(kernel('gcc-marker')), 'marker v2\n');
});

test('a program built against an older runtime library is not run: the stale build is reported', () => {
  build('tiny', 'gcc-marker');
  // the runtime changes and is rebuilt through another target; tiny is not rebuilt
  writeFileSync(join(dir, 'runtime/marker.c'), RUNTIME.replace('v1', 'v3'));
  build('kernels', 'gcc-marker', '--benchmarks', 'sort');
  const stale = runInfra(dir, ['run', 'tiny', 'gcc-marker']);
  assert.notEqual(stale.code, 0);
  assert.match(stale.stderr, /tiny\.hello: the build of tiny for gcc-marker is out of date/);
  const fresh = runInfra(dir, ['run', 'tiny', 'gcc-marker', '--build']);
  assert.equal(fresh.code, 0, fresh.stderr);
});
