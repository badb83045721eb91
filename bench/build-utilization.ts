// How well a parallel build keeps the machine busy, on the quick start's main job: builds the
// `kernels` and `opensource` targets for the `clang` and `asan` instances (the quick start's own
// setup.ts: LLVM.installed({ version: '22' }), new Clang(llvm), new ASan(llvm)) from scratch with
// `infra build TARGET clang asan --parallel proc`, one target after the other as the quick start
// does, and prints CPU time of the builds / (wall time x cores), per target and overall.
// Target: at least 0.85 overall.
//
// Usage: node --import tsx bench/build-utilization.ts [MIRROR_DIR]
// (run `npx tsc -p .` first; MIRROR_DIR defaults to $INFRA_SOURCE_MIRROR or a temp directory,
// filled by scripts/fetch-sources.sh)
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..');
const mirror = process.argv[2] ?? process.env.INFRA_SOURCE_MIRROR ?? join(tmpdir(), 'infra-source-mirror');
const TIME = '/usr/bin/time';
const TARGETS = ['kernels', 'opensource'];
const INSTANCES = ['clang', 'asan'];

const fetched = spawnSync('sh', [join(REPO, 'scripts/fetch-sources.sh'), mirror], { stdio: 'inherit' });
if (fetched.status !== 0) throw new Error('scripts/fetch-sources.sh failed');
if (!existsSync(TIME)) throw new Error(`${TIME} is needed to measure the CPU time of the builds (apt-get install time)`);

// a fresh copy of the quick start's project: nothing built yet
const dir = mkdtempSync(join(tmpdir(), 'infra-build-util-'));
copyFileSync(join(REPO, 'examples/quickstart/setup.ts'), join(dir, 'setup.ts'));

const infra = [process.execPath, join(REPO, 'bin/infra.js')];
// load (and cache) the setup script first, so the measurement covers the builds only
spawnSync(infra[0]!, [...infra.slice(1), 'config', '--targets'], { cwd: dir, stdio: 'ignore' });

const cores = availableParallelism();
const ratio = (cpu: number, wall: number) => cpu / (wall * cores);
let totalWall = 0;
let totalCpu = 0;
for (const target of TARGETS) {
  const timesFile = join(dir, `time-${target}.txt`);
  const argv = [...infra, 'build', target, ...INSTANCES, '--parallel', 'proc', '--source-mirror', mirror];
  const r = spawnSync(TIME, ['-f', '%e %U %S', '-o', timesFile, ...argv], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`building ${target} failed (exit ${r.status}); see ${dir}/build/log/commands.txt`);
  const [wall, user, sys] = readFileSync(timesFile, 'utf8').trim().split('\n').pop()!.split(/\s+/).map(Number) as [number, number, number];
  totalWall += wall;
  totalCpu += user + sys;
  console.log(
    `${target}: wall ${wall.toFixed(1)} s, CPU ${(user + sys).toFixed(1)} s (user ${user.toFixed(1)}, sys ${sys.toFixed(1)}), utilization ${ratio(user + sys, wall).toFixed(3)}`,
  );
}

const utilization = ratio(totalCpu, totalWall);
console.log(`quick start build (${TARGETS.join(' + ')} for ${INSTANCES.join(' and ')}, --parallel proc) on ${cores} cores`);
console.log(`wall ${totalWall.toFixed(1)} s, CPU ${totalCpu.toFixed(1)} s`);
console.log(`utilization ${utilization.toFixed(3)} (target >= 0.85): ${utilization >= 0.85 ? 'ok' : 'below target'}`);
rmSync(dir, { recursive: true, force: true });
