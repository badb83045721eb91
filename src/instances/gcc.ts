import {
  addCompileAndLinkFlag,
  addOptFlags,
  addRuntimeOptions,
  checkOptLevel,
  type Context,
  describeCompiler,
  Instance,
  type OptLevel,
  optSuffix,
  UserError,
  checkOptions,
} from '../api.js';
import { asanRuntimeOptions, ubsanRuntimeOptions } from './sanitizer-options.js';

/** The sanitizers gcc can add (`-fsanitize=<name>`). */
export type GccSanitizer = 'address' | 'undefined' | 'thread' | 'leak';
const SANITIZER_NAMES: Record<GccSanitizer, string> = { address: 'asan', undefined: 'ubsan', thread: 'tsan', leak: 'lsan' };

/** Options of {@link Gcc}. */
export interface GccOptions {
  /** `-O` level; default 2. */
  optlevel?: OptLevel;
  /** Link-time optimization (`-flto`, with gcc-ar/gcc-nm/gcc-ranlib for static libraries). */
  lto?: boolean;
  /** Major version for versioned programs (`gcc-12`); default the unversioned `gcc`. */
  version?: string;
  /** Build with `-fsanitize=<sanitize>`; run-time options like the clang sanitizer instances. */
  sanitize?: GccSanitizer;
}

/**
 * GCC from the system. Name: `gcc[-<version>][-O<n>][-lto][-asan|-ubsan|-tsan|-lsan]`
 * (the `-O` part is left out for the default level 2).
 */
export class Gcc extends Instance {
  readonly name: string;
  readonly optlevel: string;
  readonly lto: boolean;
  readonly version?: string;
  readonly sanitize?: GccSanitizer;

  constructor(options: GccOptions = {}) {
    super();
    checkOptions('Gcc', options, { optlevel: true, lto: true, version: true, sanitize: true });
    this.optlevel = checkOptLevel(options.optlevel ?? 2);
    this.lto = options.lto ?? false;
    if (options.version !== undefined && !/^\d+$/.test(options.version)) {
      throw new UserError(`Gcc: version must be a major version like '12', got '${options.version}'`);
    }
    this.version = options.version;
    if (options.sanitize !== undefined && !(options.sanitize in SANITIZER_NAMES)) {
      throw new UserError(`Gcc: invalid sanitizer '${options.sanitize}'; valid: ${Object.keys(SANITIZER_NAMES).join(', ')}`);
    }
    this.sanitize = options.sanitize;
    this.name =
      'gcc' +
      (this.version ? `-${this.version}` : '') +
      optSuffix(this.optlevel) +
      (this.lto ? '-lto' : '') +
      (this.sanitize ? `-${SANITIZER_NAMES[this.sanitize]}` : '');
  }

  private program(base: string): string {
    return this.version ? `${base}-${this.version}` : base;
  }

  override configure(ctx: Context): void {
    ctx.cc = this.program('gcc');
    ctx.cxx = this.program('g++');
    // the gcc- wrappers load the LTO plugin, so archives of LTO objects get a symbol index
    ctx.ar = this.lto ? this.program('gcc-ar') : 'ar';
    ctx.nm = this.lto ? this.program('gcc-nm') : 'nm';
    ctx.ranlib = this.lto ? this.program('gcc-ranlib') : 'ranlib';
    addOptFlags(ctx, this.optlevel);
    if (this.lto) {
      addCompileAndLinkFlag(ctx, '-flto');
      ctx.addLibLdflag('-flto');
    }
    if (this.sanitize) {
      addCompileAndLinkFlag(ctx, `-fsanitize=${this.sanitize}`);
      ctx.addCFlag('-fno-omit-frame-pointer');
    }
  }

  override prepareBuild(ctx: Context): void {
    // tools a build compiles and runs at once must not fail it with a leak report
    this.prepareRun(ctx);
  }

  override prepareRun(ctx: Context): void {
    if (this.sanitize === 'address') addRuntimeOptions(ctx, 'ASAN_OPTIONS', asanRuntimeOptions({}));
    if (this.sanitize === 'undefined') addRuntimeOptions(ctx, 'UBSAN_OPTIONS', ubsanRuntimeOptions());
  }

  override describe(ctx: Context): Record<string, unknown> {
    return describeCompiler(ctx, { instance: this.name, sanitize: this.sanitize ?? null });
  }
}
