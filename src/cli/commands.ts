import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import { OptionCollector, positiveInt, type OptionSpec } from '../core/options.js';
import type { Setup } from '../core/setup.js';
import { runOptionSpecs } from '../run/settings.js';

/** How a subcommand is declared; its implementation module is only loaded when it runs. */
export interface CommandDef {
  name: string;
  description: string;
  args?: Array<{ spec: string; description: string }>;
  /** Options, possibly depending on the target/instances named on the command line. */
  options(info: { setup: Setup; argv: string[] }): OptionSpec[] | Promise<OptionSpec[]>;
  run(setup: Setup, ctx: Context, positional: unknown[], opts: Record<string, any>): Promise<void>;
  /** Unknown options are passed on as arguments (pkg-config's package-defined options). */
  looseOptions?: boolean;
  /** The command's own options that take values (to find positionals before parsing). */
  staticOptions?: OptionSpec[];
}

/** Global options that take a value (see src/cli/main.ts). */
export const GLOBAL_VALUE_OPTIONS: OptionSpec[] = [
  { flags: '-j, --jobs <n>', description: '' },
  { flags: '--source-mirror <dir>', description: '' },
  { flags: '--setup <file>', description: '' },
];

/** Builds run on this machine: parallel jobs are processes sharing its cores. */
export const buildParallelOptions: OptionSpec[] = [
  { flags: '--parallel <mode>', description: 'build the instances as parallel jobs: proc (processes on this machine)', choices: ['proc'] },
  { flags: '--parallelmax <n>', description: 'maximum parallel builds (default: the number of cores)', parse: positiveInt('--parallelmax') },
];

export const buildFlagOptions: OptionSpec[] = [
  { flags: '--deps-only', description: 'only build the dependencies of the target and instances' },
  { flags: '--force-rebuild-deps', description: 'rebuild dependencies even when they are installed' },
  { flags: '--clean', description: "remove the target's generated files before building" },
  { flags: '--dry-run', description: 'print the commands that would run, run none' },
];

/** Options added by the named target and instances (for build: every instance's). */
export function targetOptions(setup: Setup, argv: string[], kind: 'build' | 'run'): OptionSpec[] {
  const positional = positionals(argv, everyOption(setup, kind));
  const col = new OptionCollector();
  const targetName = positional[0];
  if (targetName !== undefined) {
    const target = setup.getTarget(targetName);
    target.addBuildArgs(col);
    if (kind === 'run') target.addRunArgs(col);
  }
  for (const name of positional.slice(1)) {
    const inst = setup.instances.get(name);
    if (!inst) continue; // reported with the valid names when the command runs
    inst.addBuildArgs(col);
    if (kind === 'run') inst.addRunArgs(col);
  }
  // two registrations of one flag (e.g. instances sharing an option) keep the first
  const seen = new Set<string>();
  return col.specs.filter((s) => (seen.has(s.flags) ? false : (seen.add(s.flags), true)));
}

/** Every option any command, target or instance defines (to tell option values from names). */
function everyOption(setup: Setup, kind: 'build' | 'run'): OptionSpec[] {
  const col = new OptionCollector();
  for (const t of setup.targets.values()) {
    t.addBuildArgs(col);
    if (kind === 'run') t.addRunArgs(col);
  }
  for (const i of setup.instances.values()) {
    i.addBuildArgs(col);
    if (kind === 'run') i.addRunArgs(col);
  }
  const command = COMMANDS.find((c) => c.name === kind);
  return [...GLOBAL_VALUE_OPTIONS, ...(command?.staticOptions ?? []), ...col.specs];
}

/** The positional arguments of a command line, skipping options and their values. */
export function positionals(argv: string[], specs: OptionSpec[]): string[] {
  const takes = new Map<string, 'one' | 'many'>();
  for (const spec of specs) {
    const kind = /<[^>]*\.\.\.>|\[[^\]]*\.\.\.\]/.test(spec.flags) ? 'many' : /[<[]/.test(spec.flags) ? 'one' : undefined;
    if (!kind) continue;
    for (const flag of spec.flags.split(/[ ,|]+/).filter((f) => f.startsWith('-'))) takes.set(flag, kind);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      out.push(a);
      continue;
    }
    if (a.includes('=')) continue;
    const kind = takes.get(a);
    if (kind === 'one') i++;
    else if (kind === 'many') while (i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) i++;
  }
  return out;
}

const runOwnOptions: OptionSpec[] = [...runOptionSpecs, ...buildFlagOptions.filter((o) => o.flags !== '--deps-only')];

function requireInstances(names: string[]): void {
  if (names.length === 0) throw new UserError('give at least one instance', { exitCode: 2 });
}

export const COMMANDS: CommandDef[] = [
  {
    name: 'build',
    description: 'build a target with one or more instances (dependencies first)',
    args: [
      { spec: '<target>', description: 'target to build' },
      { spec: '<instances...>', description: 'instances to build it with' },
    ],
    options: ({ setup, argv }) => [...buildFlagOptions, ...buildParallelOptions, ...targetOptions(setup, argv, 'build')],
    staticOptions: [...buildFlagOptions, ...buildParallelOptions],
    run: async (setup, ctx, [target, instances], opts) => {
      requireInstances(instances as string[]);
      const { build } = await import('../commands/build.js');
      await build(setup, ctx, target as string, instances as string[], opts);
    },
  },
  {
    name: 'pkg-build',
    description: 'build and install one package and its dependencies',
    args: [{ spec: '<package>', description: 'package ident (see config --packages)' }],
    options: () => buildFlagOptions.filter((o) => o.flags !== '--deps-only'),
    run: async (setup, ctx, [pkg], opts) => {
      const { pkgBuild } = await import('../commands/pkg-build.js');
      await pkgBuild(setup, ctx, pkg as string, opts);
    },
  },
  {
    name: 'run',
    description: 'run a target built with one or more instances, measuring every execution',
    args: [
      { spec: '<target>', description: 'target to run' },
      { spec: '<instances...>', description: 'instances to run it with' },
    ],
    options: ({ setup, argv }) => [...runOwnOptions, ...targetOptions(setup, argv, 'run')],
    staticOptions: runOwnOptions,
    run: async (setup, ctx, [target, instances], opts) => {
      requireInstances(instances as string[]);
      // ctx.args holds only the target's and instances' options; the command's own are in opts
      for (const spec of runOwnOptions) delete ctx.args[/--([\w-]+)/.exec(spec.flags)![1]!.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())];
      const { runCommand } = await import('../commands/run.js');
      await runCommand(setup, ctx, target as string, instances as string[], opts);
    },
  },
  {
    name: 'report',
    description: 'report results of runs: aggregates, overheads, significance',
    args: [
      { spec: '<target>', description: 'target whose results to report' },
      { spec: '<rundirs...>', description: 'results directories (e.g. results/last)' },
    ],
    options: async () => (await import('../commands/report.js')).reportOptionSpecs,
    run: async (setup, ctx, [target, rundirs], opts) => {
      const { report } = await import('../commands/report.js');
      await report(ctx, setup.getTarget(target as string), { ...opts, rundirs: rundirs as string[] } as any);
    },
  },
  {
    name: 'clean',
    description: 'remove generated files of targets and packages',
    options: () => [
      { flags: '-t, --targets <names...>', description: 'targets to clean' },
      { flags: '-p, --packages <idents...>', description: 'packages to clean' },
    ],
    run: async (setup, ctx, _p, opts) => {
      const { clean } = await import('../commands/clean.js');
      await clean(setup, ctx, opts);
    },
  },
  {
    name: 'config',
    description: 'list registered targets, instances or packages',
    options: () => [
      { flags: '--targets', description: 'list targets' },
      { flags: '--instances', description: 'list instances' },
      { flags: '--packages', description: 'list packages (all dependencies of targets and instances)' },
    ],
    run: async (setup, ctx, _p, opts) => {
      const { config } = await import('../commands/config.js');
      await config(setup, ctx, opts);
    },
  },
  {
    name: 'pkg-config',
    description: "print a package's install prefix, flags and other build information",
    args: [
      { spec: '<package>', description: 'package ident' },
      { spec: '[options...]', description: 'package options such as --prefix, --root (none: list them)' },
    ],
    options: () => [],
    looseOptions: true,
    run: async (setup, ctx, [pkg, options], _opts) => {
      if (pkg === '--help' || pkg === '-h') {
        process.stdout.write('Usage: infra pkg-config PACKAGE [OPTION...]\n\nPrints what a build system needs to use a package; without options, lists the package\'s options.\nDefault options: --root, --prefix. Packages: see infra config --packages.\n');
        return;
      }
      const { pkgConfig } = await import('../commands/pkg-config.js');
      await pkgConfig(setup, ctx, pkg as string, (options as string[]) ?? []);
    },
  },
  {
    name: 'exec-hook',
    description: "run an instance's build/run hooks on files (for external build systems)",
    args: [
      { spec: '<hook>', description: 'pre-build, post-build, pre-run or post-run' },
      { spec: '<instance>', description: 'instance whose hooks to run' },
      { spec: '<files...>', description: 'binaries to pass to the hooks' },
    ],
    options: () => [],
    run: async (setup, ctx, [hook, instance, files], _opts) => {
      const { execHook } = await import('../commands/exec-hook.js');
      await execHook(setup, ctx, hook as string, instance as string, files as string[]);
    },
  },
  {
    name: 'completion',
    description: 'print a shell completion script (bash or zsh)',
    args: [{ spec: '<shell>', description: 'bash or zsh' }],
    options: () => [],
    run: async (setup, _ctx, [shell]) => {
      const { completion } = await import('../commands/completion.js');
      process.stdout.write(completion(setup, shell as string, ['init', ...COMMANDS.map((c) => c.name)]));
    },
  },
];
