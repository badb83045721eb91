import { existsSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  applyPatch,
  type Context,
  download,
  extractArchive,
  Package,
  type PkgConfigOption,
  run,
  UserError,
  writeOutput,
  checkOptions,
} from '../api.js';

/** Options of {@link LLVM.configure}. */
export interface LLVMConfigureOptions {
  /** Link with lld (`-fuse-ld=lld`), needed for LTO with pass plugins. Default false. */
  lld?: boolean;
}

/**
 * An LLVM toolchain (clang, lld, compiler-rt). Create one with {@link LLVM.installed} (the
 * distribution's packages) or {@link LLVM.fromSource} (an official release built with cmake and
 * ninja). Instances call {@link LLVM.configure} to use its tools.
 */
export abstract class LLVM extends Package {
  /** Version as given, e.g. `22` or `22.1.8`. */
  readonly version: string;

  protected constructor(version: string) {
    super();
    this.version = version;
  }

  /** The distribution's LLVM, e.g. Debian's `clang-22` (ident `llvm-22-system`). */
  static installed(options: LLVMInstalledOptions): LLVM {
    return new InstalledLLVM(options);
  }

  /** An official llvm-project release built from source (ident `llvm-<version>`). */
  static fromSource(options: LLVMSourceOptions): LLVM {
    return new SourceLLVM(options);
  }

  /** Major version number, e.g. 22. */
  get major(): number {
    return Number(this.version.split('.')[0]);
  }

  /** Directory holding clang, opt, llvm-config, ld.lld, ... */
  abstract bindir(ctx: Context): string;

  /** Absolute path of one of the toolchain's programs (`clang`, `opt`, `llvm-config`, ...). */
  tool(ctx: Context, name: string): string {
    return join(this.bindir(ctx), name);
  }

  /** True when the toolchain can link sanitizer runtimes (compiler-rt is installed). */
  hasCompilerRt(ctx: Context): boolean {
    const resourceDir = join(this.bindir(ctx), '..', 'lib', 'clang', String(this.major), 'lib');
    const candidates = [
      join(resourceDir, 'linux', `libclang_rt.asan-${ctx.arch}.a`),
      join(resourceDir, `${ctx.arch}-unknown-linux-gnu`, 'libclang_rt.asan.a'),
      join(resourceDir, `${ctx.arch}-pc-linux-gnu`, 'libclang_rt.asan.a'),
    ];
    return candidates.some((p) => existsSync(p));
  }

  /** How to get compiler-rt when {@link hasCompilerRt} is false. */
  abstract compilerRtHint(): string;

  /** Sets the whole toolchain in `ctx`: cc, cxx, ar, nm, ranlib (and `-fuse-ld=lld` if asked). */
  configure(ctx: Context, options: LLVMConfigureOptions = {}): void {
    ctx.cc = this.tool(ctx, 'clang');
    ctx.cxx = this.tool(ctx, 'clang++');
    ctx.ar = this.tool(ctx, 'llvm-ar');
    ctx.nm = this.tool(ctx, 'llvm-nm');
    ctx.ranlib = this.tool(ctx, 'llvm-ranlib');
    if (options.lld && !ctx.ldflags.includes('-fuse-ld=lld')) ctx.ldflags.push('-fuse-ld=lld');
    ctx.extra.llvm = { ident: this.ident(), version: this.version, bindir: this.bindir(ctx) };
  }

  /** Puts the toolchain's bin directory first on PATH, so build systems that call `clang` find it. */
  override installEnv(ctx: Context): void {
    ctx.prependPath('PATH', this.bindir(ctx));
  }

  /**
   * Options LLVM itself defines, at compile time (`-mllvm=-opt`; the integrated assembler
   * gets them too). Options a pass plugin defines go with `LLVMPasses.addCompileTimeOptions`.
   */
  static addCompileTimeOptions(ctx: Context, ...options: string[]): void {
    for (const o of options) ctx.addCFlag(`-mllvm=${o}`);
  }

  /** Options for LLVM inside the linker during LTO (`-Wl,-mllvm,-opt`); needs lld. */
  static addLinkTimeOptions(ctx: Context, ...options: string[]): void {
    for (const o of options) {
      const flag = `-Wl,-mllvm,${o}`;
      if (!ctx.ldflags.includes(flag)) ctx.ldflags.push(flag);
    }
  }

  override pkgConfigOptions(ctx: Context): PkgConfigOption[] {
    return [
      { option: '--bindir', description: 'directory of clang, opt, llvm-config', value: this.bindir(ctx) },
      { option: '--version', description: 'LLVM version', value: this.version },
      ...super.pkgConfigOptions(ctx),
    ];
  }
}

/** Options of {@link LLVM.installed}. */
export interface LLVMInstalledOptions {
  /** Major version of the distribution package, e.g. `'22'` for clang-22. */
  version: string;
  /** Install prefix; default `/usr/lib/llvm-<version>` (Debian/Ubuntu layout). */
  prefix?: string;
  /** Require lld to be installed (default true: LTO and link-time passes need it). */
  lld?: boolean;
}

/** A distribution's LLVM. Nothing to build; a missing toolchain is a clear error with the fix. */
class InstalledLLVM extends LLVM {
  private readonly prefix: string;
  private readonly needLld: boolean;

  constructor(options: LLVMInstalledOptions) {
    checkOptions('LLVM.installed', options, { version: true, prefix: true, lld: true });
    if (!/^\d+$/.test(options.version)) {
      throw new UserError(`LLVM.installed: version must be a major version like '22', got '${options.version}'`);
    }
    super(options.version);
    this.prefix = options.prefix ?? `/usr/lib/llvm-${options.version}`;
    this.needLld = options.lld ?? true;
  }

  ident(): string {
    return `llvm-${this.version}-system`;
  }

  bindir(): string {
    return join(this.prefix, 'bin');
  }

  /** The apt-get command that installs this toolchain. */
  aptCommand(): string {
    const v = this.version;
    return `apt-get install -y --no-install-recommends clang-${v} llvm-${v}-dev${this.needLld ? ` lld-${v}` : ''} libclang-rt-${v}-dev`;
  }

  compilerRtHint(): string {
    return `install it with: apt-get install -y --no-install-recommends libclang-rt-${this.version}-dev`;
  }

  private missing(ctx: Context): string[] {
    const tools = ['clang', 'clang++', 'llvm-config', 'opt', 'llvm-ar', ...(this.needLld ? ['ld.lld'] : [])];
    return tools.filter((t) => !existsSync(this.tool(ctx, t)));
  }

  isFetched(ctx: Context): boolean {
    return this.missing(ctx).length === 0;
  }
  fetch(ctx: Context): void {
    this.fail(ctx);
  }
  isBuilt(ctx: Context): boolean {
    return this.isFetched(ctx);
  }
  build(ctx: Context): void {
    this.fail(ctx);
  }
  isInstalled(ctx: Context): boolean {
    return this.isFetched(ctx);
  }
  install(ctx: Context): void {
    // nothing to install: the distribution did; only check that it did
    if (this.missing(ctx).length > 0) this.fail(ctx);
  }
  override isClean(): boolean {
    return true;
  }
  override async clean(): Promise<void> {
    // the distribution owns these files
  }

  private fail(ctx: Context): never {
    throw new UserError(
      `LLVM ${this.version} is not installed (missing in ${this.bindir()}: ${this.missing(ctx).join(', ')}); ` +
        `install it with: ${this.aptCommand()}`,
    );
  }
}

/** Options of {@link LLVM.fromSource}. */
export interface LLVMSourceOptions {
  /** Full release version, e.g. `22.1.8`. */
  version: string;
  /** sha256 of `llvm-project-<version>.src.tar.xz`; downloads are always verified. */
  sha256: string;
  /** Build compiler-rt (sanitizer runtimes). Default true. */
  compilerRt?: boolean;
  /** Build lld. Default true. */
  lld?: boolean;
  /** Patch files applied with `patch -p1` before building (paths relative to the setup's root). */
  patches?: string[];
  /** Extra cmake arguments, e.g. `-DLLVM_ENABLE_ASSERTIONS=ON`. */
  buildFlags?: string[];
  /**
   * Download address; default the official GitHub release. A local path or `file:` URL also
   * works. Either way the offline source mirrors (`--source-mirror`) are searched first.
   */
  url?: string;
}

/** An official llvm-project release, built with cmake + ninja into build/packages/llvm-<version>/install. */
class SourceLLVM extends LLVM {
  readonly options: Required<Omit<LLVMSourceOptions, 'url'>> & { url: string };

  constructor(options: LLVMSourceOptions) {
    checkOptions('LLVM.fromSource', options, {
      version: true,
      sha256: true,
      compilerRt: true,
      lld: true,
      patches: true,
      buildFlags: true,
      url: true,
    });
    if (!/^\d+\.\d+\.\d+$/.test(options.version)) {
      throw new UserError(`LLVM.fromSource: version must be a full release like '22.1.8', got '${options.version}'`);
    }
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- setup scripts in JavaScript may pass anything
    if (!/^[0-9a-f]{64}$/i.test(options.sha256 ?? '')) {
      throw new UserError(`LLVM.fromSource: sha256 must be 64 hex digits (the release tarball's checksum)`);
    }
    super(options.version);
    const v = options.version;
    this.options = {
      version: v,
      sha256: options.sha256.toLowerCase(),
      compilerRt: options.compilerRt ?? true,
      lld: options.lld ?? true,
      patches: options.patches ?? [],
      buildFlags: options.buildFlags ?? [],
      url: options.url ?? `https://github.com/llvm/llvm-project/releases/download/llvmorg-${v}/llvm-project-${v}.src.tar.xz`,
    };
  }

  ident(): string {
    return `llvm-${this.version}`;
  }

  bindir(ctx: Context): string {
    return this.path(ctx, 'install', 'bin');
  }

  override installEnv(ctx: Context): void {
    super.installEnv(ctx);
    ctx.prependPath('LD_LIBRARY_PATH', this.path(ctx, 'install', 'lib'));
  }

  compilerRtHint(): string {
    return `build it with LLVM.fromSource({ ..., compilerRt: true })`;
  }

  private tarball(ctx: Context): string {
    return this.path(ctx, basename(this.options.url));
  }

  private srcdir(ctx: Context): string {
    return this.path(ctx, 'src');
  }

  private objdir(ctx: Context): string {
    return this.path(ctx, 'obj');
  }

  isFetched(ctx: Context): boolean {
    return existsSync(join(this.srcdir(ctx), '.infra-fetched'));
  }

  async fetch(ctx: Context): Promise<void> {
    const patches = this.options.patches.map((p) => (isAbsolute(p) ? p : resolve(ctx.paths.root, p)));
    for (const p of patches) if (!existsSync(p)) throw new UserError(`LLVM patch not found: ${p}`);
    // offline mirrors first, then the network; the tarball appears only once verified
    const tarball = await download(ctx, this.sourceUrl(ctx), { sha256: this.options.sha256, outfile: this.tarball(ctx) });
    const src = this.srcdir(ctx);
    // replace: a previous, interrupted fetch may have left a partly patched tree
    await extractArchive(ctx, tarball, src, { stripComponents: 1, replace: true });
    for (const p of patches) await applyPatch(ctx, p, { cwd: src });
    writeOutput(ctx, join(src, '.infra-fetched'), `${this.options.sha256}\n`);
  }

  /** The download address; a local path (relative to the setup's root) becomes a file: URL. */
  private sourceUrl(ctx: Context): string {
    const url = this.options.url;
    return /^[a-z][a-z0-9+.-]*:/i.test(url) ? url : pathToFileURL(resolve(ctx.paths.root, url)).href;
  }

  /** The cmake configure command (exposed so it can be inspected and tested). */
  cmakeArgv(ctx: Context): string[] {
    const o = this.options;
    const projects = ['clang', ...(o.lld ? ['lld'] : [])];
    return [
      'cmake',
      '-G',
      'Ninja',
      '-S',
      join(this.srcdir(ctx), 'llvm'),
      '-B',
      this.objdir(ctx),
      '-DCMAKE_BUILD_TYPE=Release',
      `-DCMAKE_INSTALL_PREFIX=${this.path(ctx, 'install')}`,
      `-DLLVM_ENABLE_PROJECTS=${projects.join(';')}`,
      ...(o.compilerRt ? ['-DLLVM_ENABLE_RUNTIMES=compiler-rt'] : []),
      '-DLLVM_TARGETS_TO_BUILD=host',
      // one shared libLLVM, as distributions do, so pass plugins resolve against it
      '-DLLVM_BUILD_LLVM_DYLIB=ON',
      '-DLLVM_LINK_LLVM_DYLIB=ON',
      '-DLLVM_ENABLE_PLUGINS=ON',
      '-DLLVM_INCLUDE_TESTS=OFF',
      '-DLLVM_INCLUDE_BENCHMARKS=OFF',
      '-DLLVM_INCLUDE_EXAMPLES=OFF',
      // linking LLVM takes several GiB per job
      '-DLLVM_PARALLEL_LINK_JOBS=1',
      ...o.buildFlags,
    ];
  }

  /** The ninja build command. */
  ninjaArgv(ctx: Context): string[] {
    return ['ninja', '-C', this.objdir(ctx), `-j${ctx.jobs}`];
  }

  isBuilt(ctx: Context): boolean {
    return existsSync(join(this.objdir(ctx), '.infra-built'));
  }

  async build(ctx: Context): Promise<void> {
    await run(ctx, this.cmakeArgv(ctx), { cwd: this.path(ctx) });
    await run(ctx, this.ninjaArgv(ctx), { cwd: this.path(ctx) });
    writeOutput(ctx, join(this.objdir(ctx), '.infra-built'), '');
  }

  isInstalled(ctx: Context): boolean {
    return existsSync(this.path(ctx, 'install', '.infra-installed')) && existsSync(this.tool(ctx, 'clang'));
  }

  async install(ctx: Context): Promise<void> {
    await run(ctx, ['ninja', '-C', this.objdir(ctx), 'install'], { cwd: this.path(ctx) });
    writeOutput(ctx, this.path(ctx, 'install', '.infra-installed'), '');
  }
}
