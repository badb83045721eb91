/**
 * The SPEC CPU versions as data: benchmarks with their suite and languages, the harness
 * command, the names SPEC uses in files and logs, and the portability flags the benchmarks
 * need with today's compilers. Everything version-specific lives here; the target code is
 * shared.
 */

export type SpecLanguage = 'c' | 'cpp' | 'fortran';

/** One SPEC CPU benchmark. */
export interface SpecBenchmark {
  /** Full name, e.g. `401.bzip2`. */
  name: string;
  /** SPEC suite: int/fp (CPU2006) or intspeed/fpspeed/intrate/fprate (CPU2017). */
  suite: string;
  langs: SpecLanguage[];
}

/** What differs between SPEC CPU versions: benchmarks, sets, directories, portability flags. */
export interface SpecVersion {
  /** Target name on the command line. */
  target: 'spec2006' | 'spec2017';
  /** As SPEC writes it in result file names: `CPU2006`, `CPU2017`. */
  suiteName: 'CPU2006' | 'CPU2017';
  /** The harness in `$SPEC/bin`. */
  harness: 'runspec' | 'runcpu';
  /** Directory under `$SPEC/benchspec` holding the benchmarks. */
  benchspecDir: string;
  /** Config key naming the binaries' extension (`ext`, called `label` in CPU2017). */
  labelKey: 'ext' | 'label';
  /** Section header for settings that apply to every benchmark. */
  defaultSection: string;
  /** Section header for one benchmark's settings. */
  benchmarkSection: (benchmark: string) => string;
  /** Settings the config file needs beyond the compilers and flags. */
  extraSettings: Record<string, string>;
  /** The workload name SPEC's log uses for a benchmark at an input size. */
  workload: (b: SpecBenchmark, size: 'test' | 'ref') => string;
  /** Portability flags for all benchmarks (`PORTABILITY`) and per benchmark. */
  portability: {
    /** Flags for every benchmark. */
    all: string[];
    /** Flags by benchmark and language, for the architecture. */
    perBenchmark: Record<string, Partial<Record<'C' | 'CXX' | 'F', (arch: string) => string[]>>>;
  };
  benchmarks: SpecBenchmark[];
  /** Sets besides the suites, by name. */
  sets: Record<string, string[]>;
  defaultBenchmarks: string[];
}

function table(rows: Array<[string, string, string]>): SpecBenchmark[] {
  return rows.map(([name, suite, langs]) => ({ name, suite, langs: langs.split('+') as SpecLanguage[] }));
}

/** Sets by suite, plus sets of benchmarks written in exactly one language. */
function deriveSets(benchmarks: SpecBenchmark[], langSet: (suite: string, lang: SpecLanguage) => string, mixedSet?: string) {
  const sets: Record<string, string[]> = {};
  const add = (set: string, b: string) => (sets[set] ??= []).push(b);
  for (const b of benchmarks) {
    add(b.suite, b.name);
    if (b.langs.length === 1) add(langSet(b.suite, b.langs[0]!), b.name);
    else if (mixedSet) add(mixedSet, b.name);
  }
  return sets;
}

const x64 = (arch: string) =>
  arch === 'x86_64' ? ['-DSPEC_CPU_LINUX_X64'] : arch === 'aarch64' ? ['-DSPEC_CPU_LINUX'] : ['-DSPEC_CPU_LINUX_IA32'];

const CPU2006_BENCHMARKS = table([
  ['400.perlbench', 'int', 'c'],
  ['401.bzip2', 'int', 'c'],
  ['403.gcc', 'int', 'c'],
  ['410.bwaves', 'fp', 'fortran'],
  ['416.gamess', 'fp', 'fortran'],
  ['429.mcf', 'int', 'c'],
  ['433.milc', 'fp', 'c'],
  ['434.zeusmp', 'fp', 'fortran'],
  ['435.gromacs', 'fp', 'c+fortran'],
  ['436.cactusADM', 'fp', 'c+fortran'],
  ['437.leslie3d', 'fp', 'fortran'],
  ['444.namd', 'fp', 'cpp'],
  ['445.gobmk', 'int', 'c'],
  ['447.dealII', 'fp', 'cpp'],
  ['450.soplex', 'fp', 'cpp'],
  ['453.povray', 'fp', 'cpp'],
  ['454.calculix', 'fp', 'c+fortran'],
  ['456.hmmer', 'int', 'c'],
  ['458.sjeng', 'int', 'c'],
  ['459.GemsFDTD', 'fp', 'fortran'],
  ['462.libquantum', 'int', 'c'],
  ['464.h264ref', 'int', 'c'],
  ['465.tonto', 'fp', 'fortran'],
  ['470.lbm', 'fp', 'c'],
  ['471.omnetpp', 'int', 'cpp'],
  ['473.astar', 'int', 'cpp'],
  ['481.wrf', 'fp', 'c+fortran'],
  ['482.sphinx3', 'fp', 'c'],
  ['483.xalancbmk', 'int', 'cpp'],
]);

/** SPEC CPU2006: its benchmarks, sets and layout. */
export const CPU2006: SpecVersion = {
  target: 'spec2006',
  suiteName: 'CPU2006',
  harness: 'runspec',
  benchspecDir: 'CPU2006',
  labelKey: 'ext',
  defaultSection: 'default=default=default=default:',
  benchmarkSection: (b) => `${b}=default=default=default:`,
  extraSettings: {},
  workload: (_b, size) => size,
  portability: {
    all: ['-DSPEC_CPU_LP64'],
    perBenchmark: {
      '400.perlbench': { C: (arch) => [...x64(arch), '-std=gnu89'] },
      '403.gcc': { C: () => ['-std=gnu89', '-fno-strict-aliasing'] },
      '462.libquantum': { C: () => ['-DSPEC_CPU_LINUX'] },
      '464.h264ref': { C: () => ['-fsigned-char'] },
      '481.wrf': { C: () => ['-DSPEC_CPU_CASE_FLAG', '-DSPEC_CPU_LINUX'] },
      '483.xalancbmk': { CXX: () => ['-DSPEC_CPU_LINUX', '-std=gnu++98'] },
      '447.dealII': { CXX: () => ['-std=gnu++98', '-include', 'cstddef', '-include', 'cstdlib', '-include', 'cstring'] },
      '450.soplex': { CXX: () => ['-std=gnu++98'] },
      '471.omnetpp': { CXX: () => ['-std=gnu++98'] },
      '453.povray': { CXX: () => ['-std=gnu++98'] },
    },
  },
  benchmarks: CPU2006_BENCHMARKS,
  sets: deriveSets(CPU2006_BENCHMARKS, (_suite, lang) => `all_${lang}`, 'all_mixed'),
  defaultBenchmarks: ['all_c', 'all_cpp'],
};

const CPU2017_BENCHMARKS = table([
  ['500.perlbench_r', 'intrate', 'c'],
  ['502.gcc_r', 'intrate', 'c'],
  ['503.bwaves_r', 'fprate', 'fortran'],
  ['505.mcf_r', 'intrate', 'c'],
  ['507.cactuBSSN_r', 'fprate', 'cpp+c+fortran'],
  ['508.namd_r', 'fprate', 'cpp'],
  ['510.parest_r', 'fprate', 'cpp'],
  ['511.povray_r', 'fprate', 'cpp+c'],
  ['519.lbm_r', 'fprate', 'c'],
  ['520.omnetpp_r', 'intrate', 'cpp'],
  ['521.wrf_r', 'fprate', 'fortran+c'],
  ['523.xalancbmk_r', 'intrate', 'cpp'],
  ['525.x264_r', 'intrate', 'c'],
  ['526.blender_r', 'fprate', 'cpp+c'],
  ['527.cam4_r', 'fprate', 'fortran+c'],
  ['531.deepsjeng_r', 'intrate', 'cpp'],
  ['538.imagick_r', 'fprate', 'c'],
  ['541.leela_r', 'intrate', 'cpp'],
  ['544.nab_r', 'fprate', 'c'],
  ['548.exchange2_r', 'intrate', 'fortran'],
  ['549.fotonik3d_r', 'fprate', 'fortran'],
  ['554.roms_r', 'fprate', 'fortran'],
  ['557.xz_r', 'intrate', 'c'],
  ['600.perlbench_s', 'intspeed', 'c'],
  ['602.gcc_s', 'intspeed', 'c'],
  ['603.bwaves_s', 'fpspeed', 'fortran'],
  ['605.mcf_s', 'intspeed', 'c'],
  ['607.cactuBSSN_s', 'fpspeed', 'cpp+c+fortran'],
  ['619.lbm_s', 'fpspeed', 'c'],
  ['620.omnetpp_s', 'intspeed', 'cpp'],
  ['621.wrf_s', 'fpspeed', 'fortran+c'],
  ['623.xalancbmk_s', 'intspeed', 'cpp'],
  ['625.x264_s', 'intspeed', 'c'],
  ['627.cam4_s', 'fpspeed', 'fortran+c'],
  ['628.pop2_s', 'fpspeed', 'fortran+c'],
  ['631.deepsjeng_s', 'intspeed', 'cpp'],
  ['638.imagick_s', 'fpspeed', 'c'],
  ['641.leela_s', 'intspeed', 'cpp'],
  ['644.nab_s', 'fpspeed', 'c'],
  ['648.exchange2_s', 'intspeed', 'fortran'],
  ['649.fotonik3d_s', 'fpspeed', 'fortran'],
  ['654.roms_s', 'fpspeed', 'fortran'],
  ['657.xz_s', 'intspeed', 'c'],
]);

const forBoth = (names: string[], flags: Partial<Record<'C' | 'CXX' | 'F', (arch: string) => string[]>>) =>
  Object.fromEntries(
    names.flatMap((n) => [
      [`5${n}_r`, flags],
      [`6${n}_s`, flags],
    ]),
  );

/** SPEC CPU2017: its benchmarks, sets and layout. */
export const CPU2017: SpecVersion = {
  target: 'spec2017',
  suiteName: 'CPU2017',
  harness: 'runcpu',
  benchspecDir: 'CPU',
  labelKey: 'label',
  defaultSection: 'default:',
  benchmarkSection: (b) => `${b}:`,
  extraSettings: { CC_VERSION_OPTION: '--version', CXX_VERSION_OPTION: '--version', FC_VERSION_OPTION: '--version' },
  workload: (b, size) => (size === 'test' ? 'test' : b.suite.endsWith('speed') ? 'refspeed' : 'refrate'),
  portability: {
    all: ['-DSPEC_LP64'],
    perBenchmark: {
      ...forBoth(['00.perlbench'], { C: (arch) => (arch === 'x86_64' ? ['-DSPEC_LINUX_X64'] : ['-DSPEC_LINUX']) }),
      ...forBoth(['02.gcc'], { C: () => ['-fgnu89-inline'] }),
      ...forBoth(['21.wrf'], { C: () => ['-DSPEC_CASE_FLAG'], F: () => ['-fconvert=big-endian'] }),
      ...forBoth(['23.xalancbmk'], { CXX: () => ['-DSPEC_LINUX'] }),
      ...forBoth(['27.cam4'], { C: () => ['-DSPEC_CASE_FLAG'] }),
      '526.blender_r': { C: () => ['-funsigned-char', '-DSPEC_LINUX'], CXX: () => ['-funsigned-char', '-DSPEC_LINUX'] },
      '628.pop2_s': { C: () => ['-DSPEC_CASE_FLAG'], F: () => ['-fconvert=big-endian'] },
    },
  },
  benchmarks: CPU2017_BENCHMARKS,
  sets: deriveSets(CPU2017_BENCHMARKS, (suite, lang) => `${suite}_pure_${lang}`),
  defaultBenchmarks: ['intspeed_pure_c', 'intspeed_pure_cpp', 'fpspeed_pure_c'],
};
