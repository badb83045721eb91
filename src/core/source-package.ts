import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { makeJobs } from '../exec/jobserver.js';
import { run } from '../exec/run.js';
import { extractArchive } from '../util/archive.js';
import { download } from '../util/download.js';
import { applyPatch } from '../util/patch.js';
import type { Context } from './context.js';
import { UserError } from './errors.js';
import { makeDirectory, removePath, writeOutput } from './output.js';
import { Package, type PkgConfigOption } from './package.js';

/** A release tarball pinned by sha256 (looked up by that digest in the offline mirrors first). */
export interface PackageSource {
  url: string;
  sha256: string;
  /** Leading directories dropped when extracting (default 1, the `name-version/` directory). */
  stripComponents?: number;
}

/** What a user may give every source package: another pin, and patches. */
export interface SourceOptions {
  /** Address of the release tarball (default: the upstream release of a known version). */
  url?: string;
  /** sha256 of the tarball at `url`; required for a version the package does not know. */
  sha256?: string;
  /** Patch files applied with `patch -p1` before building (absolute, or relative to the setup's root). */
  patches?: string[];
}

/** The directories a source package is built in, all under build/packages/<ident>/. */
export interface SourceDirs {
  /** The extracted, patched and bootstrapped source. */
  src: string;
  /** The (out-of-tree) build directory. */
  obj: string;
  /** The final install prefix: build/packages/<ident>/install. */
  prefix: string;
}

/**
 * The source of `version` from a table of known releases, or the caller's own pin for another
 * version; anything else is an error listing the known versions.
 */
export function pinnedSource(
  what: string,
  releases: Readonly<Record<string, PackageSource>>,
  version: string,
  own?: Partial<PackageSource>,
): PackageSource {
  if (own) {
    if (own.sha256 === undefined) throw new UserError(`${what} ${version}: a url needs the sha256 of the file it names`);
    if (!/^[0-9a-f]{64}$/i.test(own.sha256)) throw new UserError(`${what} ${version}: sha256 must be 64 hex digits`);
    const url = own.url ?? releases[version]?.url;
    if (!url) throw new UserError(`${what} ${version}: give the url of the release tarball together with its sha256`);
    return { ...releases[version], ...own, url, sha256: own.sha256.toLowerCase() };
  }
  const known = releases[version];
  if (!known) {
    throw new UserError(
      `${what} ${version} is not a release this tool knows the checksum of (known: ${Object.keys(releases).join(', ')}); ` +
        'pass { url, sha256 } of its release tarball',
    );
  }
  return known;
}

/**
 * A package built from a release tarball pinned by sha256: fetched (offline source mirrors
 * first), extracted into `src/`, patched (`patch -p1`), bootstrapped, built in `obj/` and
 * installed into `install/` atomically: {@link installTo} fills a staging directory the way
 * `make install DESTDIR=...` does, and the finished tree then replaces `install/` in one rename,
 * so an interrupted install never leaves half a prefix that looks usable. Subclasses give the
 * source and the build steps; {@link AutotoolsPackage} gives `configure && make` steps.
 */
export abstract class SourcePackage extends Package {
  readonly name: string;
  readonly version: string;
  private readonly pinned: PackageSource;
  private readonly patchList: readonly string[];
  private readonly uses: readonly Package[];

  /**
   * `releases` are the versions whose checksums are known; `options.url`/`options.sha256` pin
   * another version (or another address of the same file). `uses` are the packages whose tools
   * or libraries the build needs (its {@link dependencies}; undefined entries are left out).
   */
  protected constructor(
    name: string,
    version: string,
    releases: Readonly<Record<string, PackageSource>>,
    options: SourceOptions = {},
    uses: readonly (Package | undefined)[] = [],
  ) {
    super();
    this.uses = uses.filter((p) => p !== undefined);
    this.name = name;
    this.version = version;
    const own = options.sha256 === undefined && options.url === undefined ? undefined : { url: options.url, sha256: options.sha256 };
    this.pinned = pinnedSource(name, releases, version, own);
    this.patchList = options.patches ?? [];
  }

  override dependencies(): Package[] {
    return [...this.uses];
  }

  /** `<name>-<version>` */
  ident(): string {
    return `${this.name}-${this.version}`;
  }

  /** The tarball and its checksum. */
  source(): PackageSource {
    return this.pinned;
  }

  /** Files under the prefix that must exist for the package to count as installed (e.g. `bin/m4`). */
  abstract installedFiles(): readonly string[];

  /** Builds in `dirs.obj` (created, empty on the first build) from `dirs.src`. */
  protected abstract compile(ctx: Context, dirs: SourceDirs): Promise<void>;

  /** Installs into `destdir` + `dirs.prefix` (the DESTDIR convention: paths inside name the final prefix). */
  protected abstract installTo(ctx: Context, dirs: SourceDirs, destdir: string): Promise<void>;

  /** Patch files applied in order (absolute, or relative to the setup's root). */
  patches(): readonly string[] {
    return this.patchList;
  }

  /** Commands run in the source directory after patching (`['autoreconf', '-fi']`). */
  protected bootstrap(): string[][] {
    return [];
  }

  /** Where the sources are unpacked (`src`), built (`obj`) and installed (`prefix`), under build/packages/<ident>. */
  dirs(ctx: Context): SourceDirs {
    return { src: this.path(ctx, 'src'), obj: this.path(ctx, 'obj'), prefix: this.path(ctx, 'install') };
  }

  /** build/packages/<ident>/install[/<sub>...] */
  prefix(ctx: Context, ...sub: string[]): string {
    return this.path(ctx, 'install', ...sub);
  }

  /** Also puts the prefix's pkg-config directory on PKG_CONFIG_PATH (when it has one). */
  override installEnv(ctx: Context): void {
    super.installEnv(ctx);
    const pc = this.prefix(ctx, 'lib', 'pkgconfig');
    if (existsSync(pc)) ctx.prependPath('PKG_CONFIG_PATH', pc);
  }

  /** `-I` of the installed headers. */
  cflags(ctx: Context): string[] {
    return [`-I${this.prefix(ctx, 'include')}`];
  }

  /** `-L` of the installed libraries, with an rpath so programs find them when run. */
  ldflags(ctx: Context): string[] {
    const lib = this.prefix(ctx, 'lib');
    return [`-L${lib}`, `-Wl,-rpath,${lib}`];
  }

  /** Adds {@link cflags}, {@link ldflags} and `-l<lib>` for each of `libs` to a context, each once. */
  protected linkLibraries(ctx: Context, libs: readonly string[]): void {
    for (const f of this.cflags(ctx)) ctx.addCFlag(f);
    for (const f of [...this.ldflags(ctx), ...libs.map((l) => `-l${l}`)]) if (!ctx.ldflags.includes(f)) ctx.ldflags.push(f);
  }

  /**
   * The pkg-config options of a library package: `--cflags`, `--ldflags` and `--libs` (the
   * `-l` flags of `libs`), then `--root` and `--prefix`.
   */
  protected libraryPkgConfig(ctx: Context, libs: readonly string[]): PkgConfigOption[] {
    return [
      { option: '--cflags', description: 'include flags', value: this.cflags(ctx) },
      { option: '--ldflags', description: 'library search path and rpath', value: this.ldflags(ctx) },
      { option: '--libs', description: 'libraries to link', value: libs.map((l) => `-l${l}`) },
      ...super.pkgConfigOptions(ctx),
    ];
  }

  private patchFiles(ctx: Context): string[] {
    return this.patches().map((p) => (isAbsolute(p) ? p : resolve(ctx.paths.root, p)));
  }

  /** What the extracted tree depends on: the tarball and the patches' contents. */
  private fetchStamp(ctx: Context): string {
    const h = createHash('sha256').update(this.source().sha256);
    for (const p of this.patchFiles(ctx)) h.update(existsSync(p) ? readFileSync(p) : p);
    return `${h.digest('hex')}\n`;
  }

  /** Unpacked and patched from the pinned archive and the current patches. */
  isFetched(ctx: Context): boolean {
    const stamp = join(this.dirs(ctx).src, '.infra-fetched');
    return existsSync(stamp) && readFileSync(stamp, 'utf8') === this.fetchStamp(ctx);
  }

  /** Downloads (or takes from a source mirror) the archive, checks its sha256, unpacks and patches it. */
  async fetch(ctx: Context): Promise<void> {
    const patches = this.patchFiles(ctx);
    for (const p of patches) if (!existsSync(p)) throw new UserError(`${this.ident()}: patch not found: ${p}`);
    const source = this.source();
    const name =
      source.url
        .replace(/[?#].*$/, '')
        .split('/')
        .pop() ?? `${this.ident()}.tar`;
    const tarball = await download(ctx, source.url, { sha256: source.sha256, outfile: this.path(ctx, name) });
    const { src, obj } = this.dirs(ctx);
    // a new source tree needs a fresh build: the old objects belong to other sources
    removePath(ctx, obj);
    await extractArchive(ctx, tarball, src, { stripComponents: source.stripComponents ?? 1, replace: true });
    for (const p of patches) await applyPatch(ctx, p, { cwd: src });
    for (const argv of this.bootstrap()) await run(ctx, argv, { cwd: src });
    writeOutput(ctx, join(src, '.infra-fetched'), this.fetchStamp(ctx));
  }

  /** Built out of tree in `obj` since the sources were last unpacked. */
  isBuilt(ctx: Context): boolean {
    return existsSync(join(this.dirs(ctx).obj, '.infra-built'));
  }

  /** Builds out of tree in `obj` (see {@link compile}). */
  async build(ctx: Context): Promise<void> {
    const dirs = this.dirs(ctx);
    removePath(ctx, join(dirs.obj, '.infra-built'));
    makeDirectory(ctx, dirs.obj);
    await this.compile(ctx, dirs);
    writeOutput(ctx, join(dirs.obj, '.infra-built'), '');
  }

  /** Installed from the current sources and patches, with every file of {@link installedFiles}. */
  isInstalled(ctx: Context): boolean {
    const stamp = this.prefix(ctx, '.infra-source');
    if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== this.fetchStamp(ctx)) return false;
    return this.installedFiles().every((f) => existsSync(this.prefix(ctx, f)));
  }

  /** Installs into a staging directory, then renames it over `install`: never half installed. */
  async install(ctx: Context): Promise<void> {
    const dirs = this.dirs(ctx);
    const staging = this.path(ctx, 'install.staging');
    removePath(ctx, staging);
    await this.installTo(ctx, dirs, staging);
    const tree = join(staging, dirs.prefix);
    if (!ctx.dryRun) {
      const missing = this.installedFiles().filter((f) => !existsSync(join(tree, f)));
      if (missing.length > 0) throw new Error(`${this.ident()}: the install step did not create ${missing.join(', ')}`);
      writeFileSync(join(tree, '.infra-source'), this.fetchStamp(ctx));
      removePath(ctx, dirs.prefix);
      renameSync(tree, dirs.prefix);
    }
    removePath(ctx, staging);
  }
}

/** One make call: targets (default: the default target) in a subdirectory of the build tree. */
export interface MakeStep {
  dir?: string;
  targets?: string[];
}

/**
 * `configure --prefix=install && make && make install` out of tree, for packages built with
 * autoconf (or anything with the same interface). Make takes its job slots from the build's
 * jobserver when there is one, `-j` otherwise.
 */
export abstract class AutotoolsPackage extends SourcePackage {
  /** Arguments for `configure` besides `--prefix`. */
  protected configureArgs(_ctx: Context): string[] {
    return [];
  }

  /** Environment variables for `configure` (most settings are better given as `VAR=value` arguments). */
  protected configureEnv(_ctx: Context): Record<string, string> {
    return {};
  }

  /** Variables for every make call (`V=0`, `MAKEINFO=true`). */
  protected makeVariables(): string[] {
    return [];
  }

  /** The make calls that build the package (default: `make` at the top of the build tree). */
  protected makeSteps(): MakeStep[] {
    return [{}];
  }

  /** The make calls that install it (default: `make install`); DESTDIR is added. */
  protected installSteps(): MakeStep[] {
    return [{ targets: ['install'] }];
  }

  protected async compile(ctx: Context, { src, obj, prefix }: SourceDirs): Promise<void> {
    const configure = relative(obj, join(src, 'configure'));
    await run(ctx, [configure, `--prefix=${prefix}`, ...this.configureArgs(ctx)], { cwd: obj, env: this.configureEnv(ctx) });
    await this.make(ctx, obj, this.makeSteps());
  }

  protected async installTo(ctx: Context, { obj }: SourceDirs, destdir: string): Promise<void> {
    await this.make(ctx, obj, this.installSteps(), [`DESTDIR=${destdir}`]);
  }

  private async make(ctx: Context, obj: string, steps: MakeStep[], extra: string[] = []): Promise<void> {
    for (const step of steps) {
      const argv = ['make', ...makeJobs(ctx), ...this.makeVariables(), ...(step.targets ?? []), ...extra];
      await run(ctx, argv, { cwd: join(obj, step.dir ?? '.') });
    }
  }
}
