#!/usr/bin/env -S infra --setup
// The project's setup script: it registers what can be built (targets), how (instances), and
// hands the command line to the framework. Run it with `infra <command>` in this directory.
import { join } from 'node:path';
import {
  BuildStamp,
  Clang,
  LLVM,
  LLVMPasses,
  RuntimeLibrary,
  Setup,
  Target,
  makeDirectory,
  run,
  writeOutput,
  type Context,
  type Instance,
  type Runner,
} from 'instrumentation-infra';

const here = import.meta.dirname;

// Debian's LLVM 22 (apt-get install clang-22 llvm-22-dev lld-22 libclang-rt-22-dev); '19' works too.
const llvm = LLVM.installed({ version: '22' });

// Our LLVM passes (llvm-passes/*.cpp), compiled into one plugin, build/packages/llvm-passes-example.
const passes = new LLVMPasses(llvm, { srcdir: join(here, 'llvm-passes'), name: 'example' });

// The runtime library the instrumented program is linked with (runtime/*.c).
const runtime = new RuntimeLibrary({ name: 'libcallcount', srcdir: join(here, 'runtime'), cflags: passes.runtimeCflags() });

/**
 * Counts calls to library functions: the `libcallcount` pass adds a counter before each call
 * to an external function, and the runtime prints the counts when the program exits.
 */
class LibcallCount extends Clang {
  override readonly name = 'libcallcount';

  override dependencies() {
    return [...super.dependencies(), passes, runtime];
  }

  override configure(ctx: Context) {
    super.configure(ctx); // clang-22, -O2
    passes.configure(ctx); // load the plugin in clang
    LLVMPasses.runPasses(ctx, 'start', 'libcallcount'); // run our pass before optimization
    runtime.configure(ctx); // link the runtime library
    // both configure calls also list their file in ctx.buildInputs, so targets rebuild when it changes
  }
}

/** A C program with a Makefile (hello-world/), built once per instance. */
class HelloWorld extends Target {
  readonly name = 'hello-world';

  isFetched() {
    return true; // the sources live in this project
  }
  fetch() {}

  /** The configuration a binary is built with, recorded next to it; a run refuses a stale binary. */
  private stamp(ctx: Context, instance: Instance) {
    const config = { cc: ctx.cc, cflags: ctx.cflags, ldflags: ctx.ldflags };
    const binary = this.path(ctx, instance.name, 'hello');
    return new BuildStamp(ctx, this.path(ctx, instance.name, '.infra-build'), config, [binary]);
  }

  async build(ctx: Context, instance: Instance) {
    // with --dry-run, these and `run` only print what they would do
    const out = this.path(ctx, instance.name);
    makeDirectory(ctx, out);
    // rewritten only when they differ, so make sees a change only when there is one
    writeOutput(ctx, join(out, 'cflags.txt'), ctx.cflags.join('\n'), { ifChanged: true });
    writeOutput(ctx, join(out, 'ldflags.txt'), ctx.ldflags.join('\n'), { ifChanged: true });
    await run(
      ctx,
      [
        'make',
        `OUT=${out}`,
        `CC=${ctx.cc}`,
        `CFLAGS=${ctx.cflags.join(' ')}`,
        `LDFLAGS=${ctx.ldflags.join(' ')}`,
        // the plugin and runtime library the instance's configure named: make rebuilds when they change
        `BUILD_INPUTS=${ctx.buildInputs.join(' ')}`,
      ],
      { cwd: join(here, 'hello-world') },
    );
    this.stamp(ctx, instance).record(); // not on a dry run
  }

  run(ctx: Context, instance: Instance, runner: Runner) {
    // says what changed (flags, a rebuilt plugin...) and how to rebuild
    this.stamp(ctx, instance).refuseIfStale({ target: this.name, instance: instance.name });
    runner.submit(ctx, { benchmark: 'hello', argv: [this.path(ctx, instance.name, 'hello'), '3'] });
  }

  override binaryPaths(ctx: Context, instance: Instance) {
    return [this.path(ctx, instance.name, 'hello')];
  }
}

const setup = new Setup(import.meta.url);
setup.addTarget(new HelloWorld());
setup.addInstance(new Clang(llvm)); // the baseline: plain clang-22 -O2
setup.addInstance(new LibcallCount(llvm));
await setup.main();
