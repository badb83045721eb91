// How well a parallel build keeps the machine busy: builds the open-source suite for two
// instances (gcc and clang-22) with `infra build --parallel proc` from scratch and prints
// CPU time of all builds / (wall time x cores). Target: at least 0.85.
//
// Usage: node --import tsx bench/build-utilization.ts [MIRROR_DIR]
// (run `npx tsc -p .` first; MIRROR_DIR defaults to $INFRA_SOURCE_MIRROR or a temp directory,
// filled by scripts/fetch-sources.sh)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..');
const mirror = process.argv[2] ?? process.env.INFRA_SOURCE_MIRROR ?? join(tmpdir(), 'infra-source-mirror');
const TIME = '/usr/bin/time';

const fetched = spawnSync('sh', [join(REPO, 'scripts/fetch-sources.sh'), mirror], { stdio: 'inherit' });
if (fetched.status !== 0) throw new Error('scripts/fetch-sources.sh failed');
if (!existsSync(TIME)) throw new Error(`${TIME} is needed to measure the CPU time of the builds (apt-get install time)`);

const dir = mkdtempSync(join(tmpdir(), 'infra-build-util-'));
writeFileSync(
  join(dir, 'setup.ts'),
  `import { Setup, Gcc, Clang, LLVM } from 'instrumentation-infra';
import { OpenSourceSuite } from 'instrumentation-infra/targets/opensource/index.js';
const setup = new Setup(import.meta.url);
setup.addTarget(new OpenSourceSuite());
setup.addInstance(new Gcc());
setup.addInstance(new Clang(LLVM.installed({ version: '22' })));
await setup.main();
`,
);

const infra = [process.execPath, join(REPO, 'bin/infra.js')];
// load (and cache) the setup script first, so the measurement covers the builds only
spawnSync(infra[0]!, [...infra.slice(1), 'config', '--targets'], { cwd: dir, stdio: 'ignore' });

const timesFile = join(dir, 'time.txt');
const r = spawnSync(
  TIME,
  ['-f', '%e %U %S', '-o', timesFile, ...infra, 'build', 'opensource', 'gcc', 'clang', '--parallel', 'proc', '--source-mirror', mirror],
  { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] },
);
if (r.status !== 0) throw new Error(`the build failed (exit ${r.status}); see ${dir}/build/log/commands.txt`);

const [wall, user, sys] = readFileSync(timesFile, 'utf8').trim().split('\n').pop()!.split(/\s+/).map(Number) as [number, number, number];
const cores = availableParallelism();
const utilization = (user + sys) / (wall * cores);
console.log(`build of opensource for gcc and clang-22 with --parallel proc on ${cores} cores`);
console.log(`wall ${wall.toFixed(1)} s, CPU ${(user + sys).toFixed(1)} s (user ${user.toFixed(1)}, sys ${sys.toFixed(1)})`);
console.log(`utilization ${utilization.toFixed(3)} (target >= 0.85): ${utilization >= 0.85 ? 'ok' : 'below target'}`);
rmSync(dir, { recursive: true, force: true });
