#!/usr/bin/env -S infra --setup
// Example project: one target (a small C program with its own Makefile), one package of our
// own (a runtime library the program links with), and two instances (gcc and clang).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Clang,
  Gcc,
  LLVM,
  Package,
  Setup,
  Target,
  run,
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
    return { greetings: 'greetings counted by the runtime library' };
  }

  override addRunArgs(parser: ArgParser) {
    parser.option('--count <n>', 'greetings per execution', { default: '3' });
  }

  override dependencies() {
    return [greet];
  }

  isFetched() {
    return true;
  }
  fetch() {}

  async build(ctx: Context, instance: Instance) {
    await run(
      ctx,
      [
        'make',
        `OUT=${this.path(ctx, instance.name)}`,
        `CC=${ctx.cc}`,
        `CFLAGS=${ctx.cflags.join(' ')}`,
        `LDFLAGS=${ctx.ldflags.join(' ')}`,
        `GREET_CFLAGS=-I${greet.path(ctx, 'install', 'include')}`,
        `GREET_LIBS=-L${greet.path(ctx, 'install', 'lib')} -lgreet`,
      ],
      { cwd: join(here, 'src') },
    );
  }

  run(ctx: Context, instance: Instance, runner: Runner) {
    const count = String(ctx.args.count ?? '3');
    runner.submit(ctx, {
      benchmark: 'hello',
      argv: [this.path(ctx, instance.name, 'hello'), count],
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
