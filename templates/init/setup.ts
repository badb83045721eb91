#!/usr/bin/env -S infra --setup
// The project's setup script: it registers what can be built (targets), how (instances), and
// hands the command line to the framework. Run it with `infra <command>` in this directory.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Clang,
  LLVM,
  LLVMPasses,
  RuntimeLibrary,
  Setup,
  Target,
  run,
  type Context,
  type Instance,
  type Runner,
} from 'instrumentation-infra';

const here = import.meta.dirname;

// Debian's LLVM 22 (apt-get install clang-22 llvm-22-dev lld-22 libclang-rt-22-dev).
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

/** Writes `text` to `file` only when it differs, so make sees a change only when there is one. */
function writeIfChanged(file: string, text: string) {
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
}

/** A C program with a Makefile (hello-world/), built once per instance. */
class HelloWorld extends Target {
  readonly name = 'hello-world';

  isFetched() {
    return true; // the sources live in this project
  }
  fetch() {}

  async build(ctx: Context, instance: Instance) {
    const out = this.path(ctx, instance.name);
    mkdirSync(out, { recursive: true });
    writeIfChanged(join(out, 'cflags.txt'), ctx.cflags.join('\n'));
    writeIfChanged(join(out, 'ldflags.txt'), ctx.ldflags.join('\n'));
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
  }

  run(ctx: Context, instance: Instance, runner: Runner) {
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
