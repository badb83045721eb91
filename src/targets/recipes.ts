import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { applyPatch, type Awaitable, type Context, makeDirectory, makeJobs, requireProgram, run, UserError } from '../api.js';

/** Steps every recipe kind may take before building, in this order, after extraction. */
export interface RecipeSteps {
  /**
   * Patch files applied in order to the extracted source (absolute paths, or relative to the
   * setup's root). Their content is part of the build configuration: editing one rebuilds.
   */
  patches?: string[];
  /** Leading path components the patches strip (`patch -p`; default 1). */
  patchStrip?: number;
  /**
   * Command (or commands) run in the source directory after patching and before configuring,
   * with the toolchain in the environment: `['autoreconf', '-fi']`, `['./bootstrap']`.
   */
  bootstrap?: string[] | string[][];
}

/** The directories and toolchain a custom build function works with. */
export interface RecipeEnv {
  ctx: Context;
  /** The extracted (patched, bootstrapped) source directory. */
  src: string;
  /** An empty directory for out-of-tree output, next to `src`. */
  build: string;
  toolchain: Toolchain;
  /** The toolchain as environment variables (CC, CXX, CFLAGS, CXXFLAGS, LDFLAGS, AR, RANLIB). */
  env: Record<string, string>;
}

/**
 * How to build a program inside its extracted source directory. Every recipe passes the
 * instance's compiler, flags and tools (ctx.cc, cflags, ldflags, ar, ranlib, jobs) to the
 * build system in the way that build system understands.
 */
export type BuildRecipe = RecipeSteps &
  (
    | {
        /** Plain `make` with variables on the command line (they override the Makefile's). */
        kind: 'make';
        /** Directory to run make in, relative to the source (default: the source root). */
        dir?: string;
        targets: string[];
        /** Make variables, given the toolchain (e.g. `{ CC: t.cc, CFLAGS: t.cflags }`). */
        variables: (t: Toolchain) => Record<string, string>;
      }
    | {
        /** `./configure` (CC, CFLAGS, LDFLAGS, AR, RANLIB in its environment) then `make`. */
        kind: 'configure';
        configureArgs?: string[];
        /**
         * Configure and make in the build directory (`../src/configure` from `build/`), as
         * autoconf's VPATH builds do; binaries are then relative to the build directory.
         */
        outOfTree?: boolean;
        targets: string[];
        /** Variables on make's command line (they override the Makefile's), given the toolchain. */
        makeVariables?: (t: Toolchain) => Record<string, string>;
      }
    | {
        /** `cmake -S dir -B build` with the compilers and flags as cache variables, then `cmake --build`. */
        kind: 'cmake';
        /** CMakeLists directory relative to the source root (default: the source root). */
        sourceDir?: string;
        defines?: Record<string, string>;
        targets: string[];
      }
    | {
        /**
         * `meson setup` with `-Dbuildtype=plain` (flags come from the instance only) and the
         * toolchain in the environment, then `meson compile`; binaries are relative to the
         * build directory.
         */
        kind: 'meson';
        /** meson.build directory relative to the source root (default: the source root). */
        sourceDir?: string;
        /** Project and built-in options, given to `meson setup` as `-Dkey=value`. */
        options?: Record<string, string>;
        /** Targets to compile (default: all). */
        targets?: string[];
      }
    | {
        /** A build function of your own, for build systems no other kind covers. */
        kind: 'custom';
        /** Builds the program in the environment the recipe gives. */
        build: (env: RecipeEnv) => Awaitable<void>;
        /**
         * What the function does, as data (a version string or an object of its settings):
         * a function cannot be compared between builds, so changing this is what rebuilds.
         */
        fingerprint: string | Record<string, unknown>;
        /** Where the binaries are, relative to: the source (default) or the build directory. */
        binariesIn?: 'src' | 'build';
      }
  );

/** The instance's toolchain as build systems want it: flags joined into single strings. */
export interface Toolchain {
  cc: string;
  cxx: string;
  /** Program defaults first, then the instance's flags (so an instance's `-O` wins). */
  cflags: string;
  cxxflags: string;
  ldflags: string;
  ar: string;
  ranlib: string;
  jobs: number;
}

/** The toolchain of `ctx`, with `defaultCflags` (default `['-O2']`) before the instance's flags. */
export function toolchain(ctx: Context, defaultCflags: string[] = ['-O2']): Toolchain {
  return {
    cc: ctx.cc,
    cxx: ctx.cxx,
    cflags: [...defaultCflags, ...ctx.cflags].join(' '),
    cxxflags: [...defaultCflags, ...ctx.cxxflags].join(' '),
    ldflags: ctx.ldflags.join(' '),
    ar: ctx.ar,
    ranlib: ctx.ranlib,
    jobs: ctx.jobs,
  };
}

/** The toolchain as the environment variables configure scripts, meson and most Makefiles read. */
function toolchainEnv(t: Toolchain): Record<string, string> {
  return { CC: t.cc, CXX: t.cxx, CFLAGS: t.cflags, CXXFLAGS: t.cxxflags, LDFLAGS: t.ldflags, AR: t.ar, RANLIB: t.ranlib };
}

/** Whether a recipe's binaries are relative to the build directory rather than the source. */
export function binariesInBuildDir(r: BuildRecipe): boolean {
  switch (r.kind) {
    case 'make':
      return false;
    case 'configure':
      return r.outOfTree ?? false;
    case 'cmake':
    case 'meson':
      return true;
    case 'custom':
      return r.binariesIn === 'build';
  }
}

/** A recipe as data for the build configuration: what a rebuild depends on, functions included. */
export function describeRecipe(ctx: Context, r: BuildRecipe): unknown {
  // functions do not serialise: a make recipe's effect is captured by the toolchain it is given,
  // a custom one's by its declared fingerprint
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- setup scripts in JavaScript may leave it out
  if (r.kind === 'custom' && r.fingerprint === undefined) {
    throw new UserError("a 'custom' build recipe needs a fingerprint (a string or object saying what its function does)");
  }
  const described =
    r.kind === 'make'
      ? { ...r, variables: r.variables(PROBE) }
      : r.kind === 'configure' && r.makeVariables
        ? { ...r, makeVariables: r.makeVariables(PROBE) }
        : r.kind === 'custom'
          ? { ...r, build: 'custom' }
          : r;
  return { ...described, patches: r.patches?.map((p) => patchDigest(ctx, p)) };
}
const PROBE: Toolchain = {
  cc: '$CC',
  cxx: '$CXX',
  cflags: '$CFLAGS',
  cxxflags: '$CXXFLAGS',
  ldflags: '$LDFLAGS',
  ar: '$AR',
  ranlib: '$RANLIB',
  jobs: 0,
};

function patchDigest(ctx: Context, patch: string): string {
  const file = resolve(ctx.paths.root, patch);
  if (!existsSync(file)) throw new UserError(`patch file not found: ${file} (patch paths are absolute or relative to ${ctx.paths.root})`);
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Patches, bootstraps and builds the extracted source `src`; `buildDir` is for out-of-tree output. */
export async function runRecipe(ctx: Context, r: BuildRecipe, t: Toolchain, src: string, buildDir: string): Promise<void> {
  const env = toolchainEnv(t);
  for (const patch of r.patches ?? []) await applyPatch(ctx, patch, { cwd: src, strip: r.patchStrip });
  for (const argv of bootstrapCommands(r)) await run(ctx, argv, { cwd: src, env });
  // with a jobserver (parallel builds), make takes its job slots from it instead of -j
  const jobs = makeJobs(ctx);
  switch (r.kind) {
    case 'make': {
      const vars = Object.entries(r.variables(t)).map(([k, v]) => `${k}=${v}`);
      await run(ctx, ['make', ...jobs, ...vars, ...r.targets], { cwd: join(src, r.dir ?? '.') });
      return;
    }
    case 'configure': {
      const cwd = r.outOfTree ? makeDir(ctx, buildDir) : src;
      if (!ctx.dryRun && !existsSync(join(src, 'configure'))) {
        throw new UserError(`${src} has no configure script; generate it with a bootstrap step (e.g. bootstrap: ['autoreconf', '-fi'])`);
      }
      const configure = r.outOfTree ? relative(buildDir, join(src, 'configure')) : './configure';
      await run(ctx, [configure, ...(r.configureArgs ?? [])], { cwd, env });
      const vars = Object.entries(r.makeVariables?.(t) ?? {}).map(([k, v]) => `${k}=${v}`);
      await run(ctx, ['make', ...jobs, ...vars, ...r.targets], { cwd, env });
      return;
    }
    case 'cmake': {
      const tool = (name: string) => (name.includes('/') ? name : requireProgram(ctx, name));
      const defines: Record<string, string> = {
        CMAKE_BUILD_TYPE: 'None', // flags come from the instance only, not from a build type
        CMAKE_C_COMPILER: tool(t.cc),
        CMAKE_CXX_COMPILER: tool(t.cxx),
        CMAKE_C_FLAGS: t.cflags,
        CMAKE_CXX_FLAGS: t.cxxflags,
        CMAKE_EXE_LINKER_FLAGS: t.ldflags,
        CMAKE_AR: tool(t.ar),
        CMAKE_RANLIB: tool(t.ranlib),
        ...r.defines,
      };
      const d = Object.entries(defines).map(([k, v]) => `-D${k}=${v}`);
      await run(ctx, ['cmake', '-S', join(src, r.sourceDir ?? '.'), '-B', buildDir, ...d], { cwd: src });
      const parallel = ctx.jobserver ? [] : ['--parallel', String(t.jobs)];
      await run(ctx, ['cmake', '--build', buildDir, ...parallel, '--target', ...r.targets], { cwd: src });
      return;
    }
    case 'meson': {
      const meson = requireProgram(ctx, 'meson');
      const options = Object.entries({ buildtype: 'plain', ...r.options }).map(([k, v]) => `-D${k}=${v}`);
      // nodownload: a missing subproject is an error, never a fetch from the network
      await run(ctx, [meson, 'setup', '--wrap-mode=nodownload', ...options, buildDir, join(src, r.sourceDir ?? '.')], { cwd: src, env });
      // ninja (1.11) takes no job slots from a make jobserver, so it gets the instance's -j
      await run(ctx, [meson, 'compile', '-C', buildDir, '-j', String(t.jobs), ...(r.targets ?? [])], { cwd: src, env });
      return;
    }
    case 'custom': {
      await r.build({ ctx, src, build: makeDir(ctx, buildDir), toolchain: t, env });
      return;
    }
  }
}

function bootstrapCommands(r: BuildRecipe): string[][] {
  const b = r.bootstrap ?? [];
  if (b.length === 0) return [];
  return Array.isArray(b[0]) ? (b as string[][]) : [b as string[]];
}

/** `dir`, created unless this is a dry run (which leaves the tree as it is). */
function makeDir(ctx: Context, dir: string): string {
  makeDirectory(ctx, dir);
  return dir;
}
