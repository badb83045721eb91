import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import { OptionCollector, positiveInt, type OptionSpec } from '../core/options.js';
import type { Setup } from '../core/setup.js';
import type { CompletionCommand } from '../commands/completion.js';
import { runOptionSpecs } from '../run/settings.js';

/** What a command's implementation receives besides the setup and the context. */
export interface CommandInput {
  /** Positional arguments as commander parsed them (variadic ones are arrays). */
  positional: unknown[];
  /** Values of the command's own options (never the target's or instances' options: those are in `ctx.args`). */
  opts: Record<string, unknown>;
}

/** How a subcommand is declared; its implementation module is only loaded when it runs. */
export interface CommandDef {
  name: string;
  description: string;
  args?: Array<{ spec: string; description: string }>;
  /** The command's own options. */
  options?: readonly OptionSpec[] | (() => Promise<readonly OptionSpec[]>);
  /**
   * Options whose values go to `ctx.args`: 'build' and 'run' take those the named target and
   * instances declare (`addBuildArgs`, for 'run' also `addRunArgs`); a list gives them as is
   * (a setup script's own command).
   */
  declared?: 'build' | 'run' | readonly OptionSpec[];
  /** Unknown options are passed on as arguments (pkg-config's package-defined options). */
  looseOptions?: boolean;
  /** Command lines shown under "Examples" in the command's help. */
  examples?: readonly string[];
  /** False for commands that work outside a project (no setup script): init, completion. */
  needsProject?: boolean;
  run(setup: Setup, ctx: Context, input: CommandInput): Promise<void>;
}

/** Options every command takes, given before or after the command name. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  {
    flags: '-v, --verbosity',
    description: 'debug output on stderr (the debug log always has it); -v LEVEL sets the level: debug, info, warning, error',
    parse: (_v: string, prev: number) => prev + 1,
    default: 0,
  },
  { flags: '-q, --quiet', description: 'only warnings and errors' },
  { flags: '-j, --jobs <n>', description: 'parallel jobs for build systems (default: cores, at most 16)', parse: positiveInt('--jobs') },
  {
    flags: '--source-mirror <dir>',
    description: 'directory searched (by sha256) for source archives before any download; repeatable (env INFRA_SOURCE_MIRROR)',
    parse: (v: string, prev: string[] = []) => [...prev, v],
  },
];

/** `--setup FILE` is taken by the launcher before the command line is parsed. */
export const LAUNCHER_OPTIONS: readonly OptionSpec[] = [
  { flags: '--setup <file>', description: 'the setup script to use (default: setup.ts here or in a parent directory)' },
];

/** The levels `-v LEVEL` names, as verbosity counts (`-v` is debug, `-q` warning). */
const VERBOSITY_LEVELS: Record<string, number> = { debug: 1, info: 0, warning: -1, error: -2 };

/**
 * The command line with `-v LEVEL` (`--verbosity LEVEL`, `--verbosity=LEVEL`) spelt as
 * `--verbosity` repeated or `--quiet`, the counting flags the parser has.
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const inline = /^--verbosity=(.*)$/.exec(a)?.[1];
    const next = a === '-v' || a === '--verbosity' ? argv[i + 1] : undefined;
    const level = inline ?? (next !== undefined && next in VERBOSITY_LEVELS ? next : undefined);
    if (level === undefined) {
      out.push(a);
      continue;
    }
    const count = VERBOSITY_LEVELS[level];
    if (count === undefined)
      throw new UserError(`unknown verbosity '${level}'; valid levels: ${Object.keys(VERBOSITY_LEVELS).join(', ')}`, { exitCode: 2 });
    if (count > 0) out.push('--verbosity');
    for (let q = 0; q < -count; q++) out.push('--quiet');
    if (inline === undefined) i++;
  }
  return out;
}

/**
 * Builds run on this machine: parallel jobs are processes sharing its cores. The modes that run
 * executions elsewhere are accepted too (so one command line serves build and run), and build here.
 */
const buildParallelOptions: readonly OptionSpec[] = [
  {
    flags: '--parallel <mode>',
    description: 'build the instances as parallel jobs: proc (processes on this machine); ssh, slurm and prun build here too',
    choices: ['proc', 'ssh', 'slurm', 'prun'],
  },
  {
    flags: '--parallelmax <n>',
    description: 'maximum parallel builds (default: the number of cores)',
    parse: positiveInt('--parallelmax'),
  },
];

const depsOnlyOption: OptionSpec = { flags: '--deps-only', description: 'only build the dependencies of the target and instances' };
const forceRebuildOption: OptionSpec = { flags: '--force-rebuild-deps', description: 'rebuild dependencies even when they are installed' };
const dryRunOption: OptionSpec = { flags: '--dry-run', description: 'print the commands that would run, run none' };
const rebuildOptions: readonly OptionSpec[] = [
  forceRebuildOption,
  { flags: '--clean', description: "remove the target's build directory (build/targets/TARGET, all instances) before building" },
  dryRunOption,
];
const pkgRebuildOptions: readonly OptionSpec[] = [
  forceRebuildOption,
  { flags: '--clean', description: "remove the package's build and install directory (build/packages/PACKAGE) before building it" },
  dryRunOption,
];

const runOwnOptions: readonly OptionSpec[] = [...runOptionSpecs, ...rebuildOptions];

/** The options the named target and instances declare (for build: their build options). */
export function declaredOptions(setup: Setup, positional: readonly string[], kind: 'build' | 'run'): OptionSpec[] {
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
  return uniqueFlags(col.specs);
}

/** Every option any target or instance declares for a command (to tell option values from names). */
export function everyDeclaredOption(setup: Setup, kind: 'build' | 'run'): OptionSpec[] {
  const col = new OptionCollector();
  for (const t of setup.targets.values()) {
    t.addBuildArgs(col);
    if (kind === 'run') t.addRunArgs(col);
  }
  for (const i of setup.instances.values()) {
    i.addBuildArgs(col);
    if (kind === 'run') i.addRunArgs(col);
  }
  return uniqueFlags(col.specs);
}

/** Two registrations of one flag (e.g. instances sharing an option) keep the first. */
function uniqueFlags(specs: OptionSpec[]): OptionSpec[] {
  const seen = new Set<string>();
  return specs.filter((s) => (seen.has(s.flags) ? false : (seen.add(s.flags), true)));
}

/** The options a command parses before it knows the target: its own, and the global ones. */
export function staticOptions(own: readonly OptionSpec[]): OptionSpec[] {
  return [...GLOBAL_OPTIONS, ...LAUNCHER_OPTIONS, ...own];
}

/** A command's own options (the report command's come with its module). */
export async function ownOptions(def: CommandDef): Promise<readonly OptionSpec[]> {
  return typeof def.options === 'function' ? def.options() : (def.options ?? []);
}

/** The positional arguments of a command line, skipping options and their values. */
export function positionals(argv: readonly string[], specs: readonly OptionSpec[]): string[] {
  const takes = new Map<string, 'one' | 'many'>();
  for (const spec of specs) {
    const kind = /<[^>]*\.\.\.>|\[[^\]]*\.\.\.\]/.test(spec.flags) ? 'many' : /[<[]/.test(spec.flags) ? 'one' : undefined;
    if (!kind) continue;
    for (const flag of optionFlags(spec)) takes.set(flag, kind);
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

/** The flags of an option spec: `-i, --iterations <n>` gives `-i` and `--iterations`. */
export function optionFlags(spec: OptionSpec): string[] {
  return spec.flags.split(/[ ,|]+/).filter((f) => f.startsWith('-'));
}

/** The command name: the first argument that is neither a global option nor its value. */
export function commandName(argv: readonly string[]): string | undefined {
  return positionals(argv, [...GLOBAL_OPTIONS, ...LAUNCHER_OPTIONS])[0];
}

function requireInstances(names: string[]): void {
  if (names.length === 0) throw new UserError('give at least one instance', { exitCode: 2 });
}

/** A positional argument as strings: commander gives a string, or an array for a variadic one. */
const strings = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : v === undefined ? [] : [v as string]);

/** Commands a setup script adds: their options are theirs, read from `ctx.args`. */
export function setupCommandDefs(setup: Setup): CommandDef[] {
  return [...setup.commands.values()].map((cmd) => {
    const col = new OptionCollector();
    cmd.addArgs?.(col);
    return { name: cmd.name, description: cmd.description, declared: col.specs, run: async (s, ctx) => cmd.run(ctx, s) };
  });
}

/** Every command with every option it accepts, as completion needs them. */
export async function completionCommands(setup: Setup): Promise<CompletionCommand[]> {
  const { positionalKinds } = await import('../commands/completion.js');
  const commands: CompletionCommand[] = [];
  for (const def of [...COMMANDS, ...setupCommandDefs(setup)]) {
    const declared = typeof def.declared === 'string' ? everyDeclaredOption(setup, def.declared) : [...(def.declared ?? [])];
    commands.push({
      name: def.name,
      description: def.description,
      options: [...staticOptions(await ownOptions(def)), ...declared],
      ...positionalKinds(def.args),
    });
  }
  return commands;
}

export const COMMANDS: readonly CommandDef[] = [
  {
    name: 'init',
    description: 'create a project: setup script, package.json, tsconfig.json, an example pass, runtime and target',
    args: [{ spec: '<dir>', description: 'directory to create the project in' }],
    options: [
      { flags: '--force', description: 'write into a directory that is not empty' },
      {
        flags: '--link',
        description: "depend on this installation of infra (a file: path) instead of the registry's version (default for a checkout)",
      },
    ],
    needsProject: false,
    examples: ['infra init my-project && cd my-project && npm install', 'infra init . --force', 'infra init my-project --link'],
    run: async (_setup, _ctx, { positional: [dir], opts }) => {
      const { init } = await import('../commands/init.js');
      await init({ dir: String(dir), force: opts.force === true, ...(opts.link === true ? { link: true } : {}) });
    },
  },
  {
    name: 'check',
    description: "type-check the setup script (and what it imports) with the project's TypeScript",
    examples: ['infra check'],
    run: async (setup, ctx) => {
      const { check } = await import('../commands/check.js');
      await check(setup, ctx);
    },
  },
  {
    name: 'build',
    description: 'build a target with one or more instances (dependencies first)',
    args: [
      { spec: '<target>', description: 'target to build' },
      { spec: '<instances...>', description: 'instances to build it with' },
    ],
    options: [depsOnlyOption, ...rebuildOptions, ...buildParallelOptions],
    declared: 'build',
    examples: [
      'infra build hello-world clang libcallcount',
      'infra build hello-world clang --dry-run      # print the commands only',
      'infra build TARGET INSTANCE --help           # also the options of TARGET and INSTANCE',
    ],
    run: async (setup, ctx, { positional: [target, instances], opts }) => {
      requireInstances(strings(instances));
      const { build } = await import('../commands/build.js');
      await build(setup, ctx, { ...opts, target: String(target), instances: strings(instances) });
    },
  },
  {
    name: 'pkg-build',
    description: 'build and install one package and its dependencies',
    args: [{ spec: '<package>', description: 'package ident (see config --packages)' }],
    options: pkgRebuildOptions,
    examples: ['infra config --packages            # the idents', 'infra pkg-build llvm-passes-example --clean'],
    run: async (setup, ctx, { positional: [pkg], opts }) => {
      const { pkgBuild } = await import('../commands/pkg-build.js');
      await pkgBuild(setup, ctx, { ...opts, package: String(pkg) });
    },
  },
  {
    name: 'run',
    description: 'run a target built with one or more instances, measuring every execution',
    args: [
      { spec: '<target>', description: 'target to run' },
      { spec: '<instances...>', description: 'instances to run it with' },
    ],
    options: runOwnOptions,
    declared: 'run',
    examples: [
      'infra run --build hello-world clang libcallcount',
      'infra run hello-world clang libcallcount -i 5 --warmup 1 --timeout 2.5',
      'infra run TARGET INSTANCE... --help          # also the options of TARGET and the INSTANCEs',
    ],
    run: async (setup, ctx, { positional: [target, instances], opts }) => {
      requireInstances(strings(instances));
      const { runCommand } = await import('../commands/run.js');
      await runCommand(setup, ctx, { ...opts, target: String(target), instances: strings(instances) });
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
    examples: [
      'infra report hello-world results/last',
      'infra report hello-world results/last --overhead clang -f runtime:mean:stdev',
      'infra report hello-world results/last --csv > results.csv',
      'infra report hello-world results/last --help-fields',
    ],
    // results carry their fields' descriptions, so a copied results directory reports anywhere
    needsProject: false,
    run: async (setup, ctx, { positional: [target, rundirs], opts }) => {
      const { report } = await import('../commands/report.js');
      const { reportTarget } = await import('../results/recorded-target.js');
      const dirs = strings(rundirs);
      await report(ctx, reportTarget(setup, String(target), dirs), { ...opts, rundirs: dirs });
    },
  },
  {
    name: 'compare',
    description: 'compare two runs: per benchmark and instance the ratio B/A, significance and a verdict',
    args: [
      { spec: '<run_a>', description: 'the reference run directory (e.g. before a change)' },
      { spec: '<run_b>', description: 'the run directory compared with it (e.g. results/last)' },
    ],
    options: async () => (await import('../commands/compare.js')).compareOptionSpecs,
    examples: [
      'infra compare results/run.before results/last',
      'infra compare results/run.A results/run.B -f runtime:median --threshold 2 --html compare.html',
    ],
    // results carry their fields' descriptions, so a copied results directory compares anywhere
    needsProject: false,
    run: async (setup, ctx, { positional: [runA, runB], opts }) => {
      const { compareRuns } = await import('../commands/compare.js');
      await compareRuns(setup, ctx, { ...opts, runA: String(runA), runB: String(runB) });
    },
  },
  {
    name: 'clean',
    description: 'remove generated files of targets and packages, and what killed runs left',
    options: [
      { flags: '-t, --targets <names...>', description: 'targets to clean' },
      { flags: '-p, --packages <idents...>', description: 'packages to clean' },
    ],
    examples: ['infra clean --targets hello-world', 'infra clean --packages llvm-passes-example'],
    run: async (setup, ctx, { opts }) => {
      const { clean } = await import('../commands/clean.js');
      await clean(setup, ctx, opts);
    },
  },
  {
    name: 'config',
    description: 'list registered targets, instances and packages (all, labelled, without a flag)',
    examples: ['infra config', 'infra config --targets            # names only, one per line'],
    options: [
      { flags: '--targets', description: 'list targets' },
      { flags: '--instances', description: 'list instances' },
      { flags: '--packages', description: 'list packages (all dependencies of targets and instances)' },
    ],
    run: async (setup, ctx, { opts }) => {
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
    looseOptions: true,
    examples: ['infra pkg-config llvm-passes-example', 'infra pkg-config llvm-passes-example --plugin'],
    run: async (setup, ctx, { positional: [pkg, options] }) => {
      const { pkgConfig } = await import('../commands/pkg-config.js');
      await pkgConfig(setup, ctx, { package: String(pkg), options: strings(options) });
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
    examples: ['infra exec-hook post-build libcallcount build/targets/hello-world/libcallcount/hello'],
    run: async (setup, ctx, { positional: [hook, instance, files] }) => {
      const { execHook } = await import('../commands/exec-hook.js');
      await execHook(setup, ctx, { hook: String(hook), instance: String(instance), files: strings(files) });
    },
  },
  {
    name: 'completion',
    description: 'print a shell completion script (bash or zsh)',
    args: [{ spec: '<shell>', description: 'bash or zsh' }],
    needsProject: false,
    examples: [
      'infra completion bash > ~/.local/share/bash-completion/completions/infra',
      "echo 'source <(infra completion zsh)' >> ~/.zshrc",
    ],
    run: async (setup, ctx, { positional: [shell] }) => {
      const { completion } = await import('../commands/completion.js');
      await completion(setup, ctx, { shell: String(shell), commands: await completionCommands(setup) });
    },
  },
];
