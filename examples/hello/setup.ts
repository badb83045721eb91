#!/usr/bin/env -S infra --setup
// Example project: one target (a small C program with its own Makefile), one package of our
// own (a runtime library the program links with), and two instances (gcc and clang).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BuildStamp,
  Clang,
  Gcc,
  LLVM,
  Package,
  Setup,
  Target,
  benchmarkSize,
  run,
  writeOutput,
  type ArgParser,
  type Context,
  type Instance,
  type Runner,
} from 'instrumentation-infra';

const here = import.meta.dirname;

/** The runtime library, built once and shared by every instance. */
class GreetRuntime extends Package {
  ident() {
    return 'greet-runtime';
  }
  isFetched() {
    return true; // the sources live in this project
  }
  fetch() {}
  isBuilt(ctx: Context) {
    return existsSync(this.path(ctx, 'obj', 'libgreet.a'));
  }
  async build(ctx: Context) {
    await run(ctx, ['make', `-j${ctx.jobs}`, `OBJDIR=${this.path(ctx, 'obj')}`, `CC=${ctx.cc}`], { cwd: join(here, 'runtime') });
  }
  isInstalled(ctx: Context) {
    return existsSync(this.path(ctx, 'install', 'lib', 'libgreet.a'));
  }
  async install(ctx: Context) {
    await run(ctx, ['make', 'install', `OBJDIR=${this.path(ctx, 'obj')}`, `PREFIX=${this.path(ctx, 'install')}`], {
      cwd: join(here, 'runtime'),
    });
  }
  override pkgConfigOptions(ctx: Context) {
    return [
      { option: '--cflags', description: 'include flags', value: [`-I${this.path(ctx, 'install', 'include')}`] },
      { option: '--libs', description: 'link flags', value: [`-L${this.path(ctx, 'install', 'lib')}`, '-lgreet'] },
      ...super.pkgConfigOptions(ctx),
    ];
  }
}

const greet = new GreetRuntime();

class Hello extends Target {
  readonly name = 'hello';

  override reportableFields() {
    return { greetings: 'greetings counted by the runtime library', size: 'input size: test or ref' };
  }

  override addRunArgs(parser: ArgParser) {
    parser.option('--count <n>', 'greetings per execution (default 3, with --test 1)');
    parser.option('-t, --test', 'run the small input');
  }

  override dependencies() {
    return [greet]; // packages built (once, shared by every instance) before this target
  }

  isFetched() {
    return true; // the sources live in this project
  }
  fetch() {}

  /** What a binary is built with, recorded next to it: a run refuses a stale binary. */
  private stamp(ctx: Context, instance: Instance) {
    const config = { cc: ctx.cc, cflags: ctx.cflags, ldflags: ctx.ldflags };
    const binary = this.path(ctx, instance.name, 'hello');
    return new BuildStamp(ctx, this.path(ctx, instance.name, '.infra-build'), config, [binary]);
  }

  async build(ctx: Context, instance: Instance) {
    const out = this.path(ctx, instance.name); // build/targets/hello/<instance>
    // make rebuilds when flags.txt changes; on --dry-run this, make and record() only print or skip
    writeOutput(ctx, join(out, 'flags.txt'), `${ctx.cflags.join(' ')}\n${ctx.ldflags.join(' ')}\n`, { ifChanged: true });
    await run(
      ctx,
      [
        'make',
        `OUT=${out}`,
        `CC=${ctx.cc}`,
        `CFLAGS=${ctx.cflags.join(' ')}`,
        `LDFLAGS=${ctx.ldflags.join(' ')}`,
        `GREET_CFLAGS=-I${greet.path(ctx, 'install', 'include')}`,
        `GREET_LIBS=-L${greet.path(ctx, 'install', 'lib')} -lgreet`,
      ],
      { cwd: join(here, 'src') },
    );
    this.stamp(ctx, instance).record();
  }

  run(ctx: Context, instance: Instance, runner: Runner) {
    // "hello for clang is out of date: cflags: '-O2' -> '-O3'; rebuild it with `infra build hello clang` ..."
    this.stamp(ctx, instance).refuseIfStale({ target: this.name, instance: instance.name });
    const size = benchmarkSize(ctx); // 'test' with --test, else 'ref'
    const count = ctx.stringOption('count') ?? (size === 'test' ? '1' : '3');
    runner.submit(ctx, {
      benchmark: 'hello',
      argv: [this.path(ctx, instance.name, 'hello'), count],
      fields: { size },
      check: (result) => {
        if (result.status !== 'ok') return;
        const greetings = readFileSync(result.stdoutPath, 'utf8').split('\n').filter((l) => l === 'hello, world').length;
        if (greetings !== Number(count)) return { failure: `expected ${count} greetings, got ${greetings}` };
      },
    });
  }

  override binaryPaths(ctx: Context, instance: Instance) {
    return [this.path(ctx, instance.name, 'hello')];
  }
}

const setup = new Setup(import.meta.url);
setup.addTarget(new Hello());
setup.addInstance(new Gcc());
setup.addInstance(new Clang(LLVM.installed({ version: '22' })));
await setup.main();
