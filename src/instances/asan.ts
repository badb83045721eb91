import {
  addCompileAndLinkFlag,
  addRuntimeOptions,
  checkOptLevel,
  type Context,
  describeCompiler,
  Instance,
  type OptLevel,
  optSuffix,
  type Package,
  UserError,
  checkOptions,
} from '../api.js';
import type { LLVM } from '../packages/llvm.js';
import { configureClang } from './clang.js';
import { asanRuntimeOptions, setRunOptions } from './sanitizer-options.js';

/** Options of {@link ASan}. */
export interface ASanOptions {
  /** Temporal safety: false sets the quarantine to 0 (use-after-free goes undetected). Default true. */
  temporal?: boolean;
  /** Instrument stack variables. Default true. */
  stack?: boolean;
  /** Instrument globals. Default true. */
  glob?: boolean;
  /** Check stores. Default true. */
  checkWrites?: boolean;
  /** Check loads. Default true. */
  checkReads?: boolean;
  /**
   * Leak detection at exit (`detect_leaks`). Default false, as in the reference: benchmarks
   * are measured, not debugged, and build tools must not fail on a leak report.
   */
  leaks?: boolean;
  /** Report malloc/delete, new/free and new/delete[] mismatches (`alloc_dealloc_mismatch`). Default false. */
  allocDeallocMismatch?: boolean;
  /** Minimum heap redzone in bytes (power of two, 16..2048; the runtime's default is 16). */
  redzone?: number;
  optlevel?: OptLevel;
  lto?: boolean;
}

/**
 * AddressSanitizer with clang: `-fsanitize=address` at compile and link time plus the chosen
 * instrumentation options, and `ASAN_OPTIONS` at run time: `detect_leaks` and
 * `alloc_dealloc_mismatch` from the options (both 0 by default), `detect_odr_violation=0`, plus
 * quarantine/redzone from the options. Options the user gives in the environment
 * (`ASAN_OPTIONS=detect_leaks=1 infra run ...`) win over these.
 *
 * Name: `asan[-heap|-nostack|-noglob][-wo][-lto]` as in the original, extended so that every
 * option combination gets its own name: `-ro` (no write checks), `-notemporal`, `-rz<N>`,
 * `-leaks`, `-mismatch`, `-O<n>`.
 */
export class ASan extends Instance {
  readonly name: string;
  readonly llvm: LLVM;
  readonly options: Required<Omit<ASanOptions, 'redzone' | 'optlevel'>> & { redzone?: number; optlevel: string };

  constructor(llvm: LLVM, options: ASanOptions = {}) {
    super();
    checkOptions('ASan', options, {
      temporal: true,
      stack: true,
      glob: true,
      checkWrites: true,
      checkReads: true,
      leaks: true,
      allocDeallocMismatch: true,
      redzone: true,
      optlevel: true,
      lto: true,
    });
    this.llvm = llvm;
    const o = {
      temporal: options.temporal ?? true,
      stack: options.stack ?? true,
      glob: options.glob ?? true,
      checkWrites: options.checkWrites ?? true,
      checkReads: options.checkReads ?? true,
      leaks: options.leaks ?? false,
      allocDeallocMismatch: options.allocDeallocMismatch ?? false,
      redzone: options.redzone,
      optlevel: checkOptLevel(options.optlevel ?? 2),
      lto: options.lto ?? false,
    };
    if (
      o.redzone !== undefined &&
      !(Number.isInteger(o.redzone) && o.redzone >= 16 && o.redzone <= 2048 && (o.redzone & (o.redzone - 1)) === 0)
    ) {
      throw new UserError(`ASan: redzone must be a power of two from 16 to 2048, got ${o.redzone}`);
    }
    if (!o.checkReads && !o.checkWrites) {
      throw new UserError('ASan: checkReads and checkWrites are both false; nothing would be checked (use Clang instead)');
    }
    this.options = o;
    let name = 'asan';
    if (!o.stack && !o.glob) name += '-heap';
    else if (!o.stack) name += '-nostack';
    else if (!o.glob) name += '-noglob';
    if (!o.checkReads) name += '-wo';
    if (!o.checkWrites) name += '-ro';
    if (!o.temporal) name += '-notemporal';
    if (o.redzone !== undefined) name += `-rz${o.redzone}`;
    if (o.leaks) name += '-leaks';
    if (o.allocDeallocMismatch) name += '-mismatch';
    name += optSuffix(o.optlevel);
    if (o.lto) name += '-lto';
    this.name = name;
  }

  override dependencies(): Package[] {
    return [this.llvm];
  }

  /** The `-mllvm=` options that turn instrumentation off, as compile (and LTO link) flags. */
  instrumentationOptions(): string[] {
    const o = this.options;
    return [
      ...(o.stack ? [] : ['-asan-stack=0']),
      ...(o.glob ? [] : ['-asan-globals=0']),
      ...(o.checkReads ? [] : ['-asan-instrument-reads=0']),
      ...(o.checkWrites ? [] : ['-asan-instrument-writes=0']),
    ];
  }

  override configure(ctx: Context): void {
    if (!this.llvm.hasCompilerRt(ctx)) {
      throw new UserError(`ASan needs compiler-rt, which ${this.llvm.ident()} lacks; ${this.llvm.compilerRtHint()}`);
    }
    configureClang(ctx, this.llvm, { optlevel: this.options.optlevel, lto: this.options.lto });
    addCompileAndLinkFlag(ctx, '-fsanitize=address');
    ctx.addCFlag('-fno-omit-frame-pointer');
    for (const opt of this.instrumentationOptions()) {
      ctx.addCFlag(`-mllvm=${opt}`);
      if (this.options.lto) ctx.ldflags.push(`-Wl,-mllvm,${opt}`);
    }
    // build systems run tools they just compiled with these flags (sqlite's lemon, code
    // generators): a leak report there must not fail the build
    addRuntimeOptions(ctx, 'ASAN_OPTIONS', asanRuntimeOptions({ ...this.options, leaks: false }));
  }

  override prepareRun(ctx: Context): void {
    addRuntimeOptions(ctx, 'ASAN_OPTIONS', asanRuntimeOptions(this.options));
    // the build's options (set by configure) turned leak detection off for build tools
    if (this.options.leaks) setRunOptions(ctx, 'ASAN_OPTIONS', { detect_leaks: 1 });
  }

  override describe(ctx: Context): Record<string, unknown> {
    return describeCompiler(ctx, { instance: this.name, llvm: this.llvm.ident(), asan: { ...this.options } });
  }
}
