import {
  addCompileAndLinkFlag,
  addOptFlags,
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
import { Gperftools } from '../packages/gperftools.js';
import type { LLVM } from '../packages/llvm.js';

/** The allocator programs are linked with: the C library's, or tcmalloc (see {@link Gperftools}). */
export type Allocator = 'system' | 'tcmalloc';

/** Options of {@link Clang}. */
export interface ClangOptions {
  /** `-O` level; default 2. */
  optlevel?: OptLevel;
  /** Full link-time optimization (`-flto`, linked with lld). Default false. */
  lto?: boolean;
  /** Heap allocator; `tcmalloc` links the {@link Gperftools} package. Default `system`. */
  alloc?: Allocator;
}

/**
 * Clang from an LLVM package. Name: `clang[-O<n>][-lto][-tcmalloc]` (the `-O` part is left out
 * for the default level 2). Set `gperftools` to use a custom tcmalloc package.
 */
export class Clang extends Instance {
  readonly name: string;
  readonly llvm: LLVM;
  readonly optlevel: string;
  readonly lto: boolean;
  readonly alloc: Allocator;
  gperftools: Gperftools;

  constructor(llvm: LLVM, options: ClangOptions = {}) {
    super();
    checkOptions('Clang', options, { optlevel: true, lto: true, alloc: true });
    this.llvm = llvm;
    this.optlevel = checkOptLevel(options.optlevel ?? 2);
    this.lto = options.lto ?? false;
    this.alloc = options.alloc ?? 'system';
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- setup scripts in JavaScript may pass anything
    if (this.alloc !== 'system' && this.alloc !== 'tcmalloc') {
      throw new UserError(`Clang: invalid allocator '${String(this.alloc)}'; valid: system, tcmalloc`);
    }
    this.gperftools = new Gperftools();
    this.name = 'clang' + optSuffix(this.optlevel) + (this.lto ? '-lto' : '') + (this.alloc === 'tcmalloc' ? '-tcmalloc' : '');
  }

  override dependencies(): Package[] {
    return [this.llvm, ...(this.alloc === 'tcmalloc' ? [this.gperftools] : [])];
  }

  override configure(ctx: Context): void {
    configureClang(ctx, this.llvm, { optlevel: this.optlevel, lto: this.lto });
    if (this.alloc === 'tcmalloc') this.gperftools.configure(ctx);
  }

  override describe(ctx: Context): Record<string, unknown> {
    return describeCompiler(ctx, { instance: this.name, llvm: this.llvm.ident(), alloc: this.alloc });
  }
}

/** The part every clang-based instance shares: toolchain, `-O`, and LTO through lld. */
export function configureClang(ctx: Context, llvm: LLVM, o: { optlevel: string; lto: boolean }): void {
  llvm.configure(ctx, { lld: o.lto });
  addOptFlags(ctx, o.optlevel);
  if (o.lto) {
    addCompileAndLinkFlag(ctx, '-flto');
    ctx.addLibLdflag('-flto');
    // the linker runs the optimizer under LTO, so it needs the level too
    ctx.ldflags.push(`-O${o.optlevel}`);
  }
}
