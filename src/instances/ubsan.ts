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
import { ubsanRuntimeOptions } from './sanitizer-options.js';

/** Options of {@link UBSan}. */
export interface UBSanOptions {
  /** Check groups or single checks for `-fsanitize=`; default `['undefined']`. */
  checks?: string[];
  /** Trap instead of calling the runtime (`-fsanitize-trap=all`; no runtime library). Default false. */
  trap?: boolean;
  /** Continue after an error (`-fsanitize-recover=all`). Default false: stop at the first. */
  recover?: boolean;
  optlevel?: OptLevel;
  lto?: boolean;
}

/**
 * UndefinedBehaviorSanitizer with clang. Name: `ubsan[-trap][-recover][-O<n>][-lto]`; with
 * custom checks the name is `ubsan-<check>+<check>...`.
 */
export class UBSan extends Instance {
  readonly name: string;
  readonly llvm: LLVM;
  readonly checks: string[];
  readonly trap: boolean;
  readonly recover: boolean;
  readonly optlevel: string;
  readonly lto: boolean;

  constructor(llvm: LLVM, options: UBSanOptions = {}) {
    super();
    checkOptions('UBSan', options, { checks: true, trap: true, recover: true, optlevel: true, lto: true });
    this.llvm = llvm;
    this.checks = options.checks ?? ['undefined'];
    if (this.checks.length === 0 || this.checks.some((c) => !/^[a-z-]+$/.test(c))) {
      throw new UserError(
        `UBSan: checks must be sanitizer check names like 'undefined' or 'signed-integer-overflow', got ${JSON.stringify(this.checks)}`,
      );
    }
    this.trap = options.trap ?? false;
    this.recover = options.recover ?? false;
    this.optlevel = checkOptLevel(options.optlevel ?? 2);
    this.lto = options.lto ?? false;
    const custom = this.checks.join(',') === 'undefined' ? '' : `-${this.checks.join('+')}`;
    this.name =
      'ubsan' +
      custom +
      (this.trap ? '-trap' : '') +
      (this.recover ? '-recover' : '') +
      optSuffix(this.optlevel) +
      (this.lto ? '-lto' : '');
  }

  override dependencies(): Package[] {
    return [this.llvm];
  }

  override configure(ctx: Context): void {
    if (!this.trap && !this.llvm.hasCompilerRt(ctx)) {
      throw new UserError(`UBSan needs compiler-rt (or trap: true), which ${this.llvm.ident()} lacks; ${this.llvm.compilerRtHint()}`);
    }
    configureClang(ctx, this.llvm, { optlevel: this.optlevel, lto: this.lto });
    addCompileAndLinkFlag(ctx, `-fsanitize=${this.checks.join(',')}`);
    if (this.trap) addCompileAndLinkFlag(ctx, '-fsanitize-trap=all');
    if (this.recover) addCompileAndLinkFlag(ctx, '-fsanitize-recover=all');
    else addCompileAndLinkFlag(ctx, '-fno-sanitize-recover=all');
  }

  override prepareRun(ctx: Context): void {
    if (!this.trap) addRuntimeOptions(ctx, 'UBSAN_OPTIONS', ubsanRuntimeOptions({ recover: this.recover }));
  }

  override describe(ctx: Context): Record<string, unknown> {
    return describeCompiler(ctx, { instance: this.name, llvm: this.llvm.ident(), checks: this.checks, trap: this.trap });
  }
}
