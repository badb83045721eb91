import { Command as Commander, CommanderError, Option } from 'commander';
import pc from 'picocolors';
import { UserError, InterruptedError, isUserError } from '../core/errors.js';
import { optionKey, type OptionSpec } from '../core/options.js';
import { useColor } from '../core/log.js';
import type { Setup } from '../core/setup.js';
import { killAll } from '../exec/children.js';
import { interrupt, isInterrupted, throwIfInterrupted } from '../exec/interrupt.js';
import { packageVersion } from '../paths.js';
import { createContext, type GlobalOptions } from './context.js';
import {
  COMMANDS,
  GLOBAL_OPTIONS,
  LAUNCHER_OPTIONS,
  normalizeArgv,
  type CommandDef,
  commandName,
  declaredOptions,
  everyDeclaredOption,
  positionals,
  setupCommandDefs,
  ownOptions,
  staticOptions,
} from './commands.js';

/** Whether the command line runs in a project; outside one, only help, init and completion work. */
export interface ProjectState {
  /** Why there is no project (the error a command that needs one reports); unset in a project. */
  noProject?: string;
}

/**
 * The single place where errors become messages and exit statuses. A UserError prints its
 * message; anything else is a bug and prints a stack trace. Both exit non-zero.
 */
export async function runCli(setup: Setup, argv: string[], where: ProjectState = {}): Promise<void> {
  const onSignal = (sig: NodeJS.Signals) => {
    if (isInterrupted()) {
      killAll('SIGKILL');
      return;
    }
    interrupt();
    process.stderr.write(`\ninfra: ${sig === 'SIGINT' ? 'interrupted' : 'terminated'}; stopping running jobs (again to force)\n`);
    killAll(sig === 'SIGINT' ? 'SIGINT' : 'SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await dispatch(setup, normalizeArgv(argv), where);
    throwIfInterrupted();
  } catch (err) {
    process.exitCode = reportError(isInterrupted() && !(err instanceof CommanderError) ? asInterrupt(err) : err);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function asInterrupt(err: unknown): unknown {
  return err instanceof InterruptedError ? err : new InterruptedError('interrupted; finished work is kept, rerun to complete the rest');
}

export function reportError(err: unknown): number {
  // highlighted on a terminal: the first line is what went wrong
  const c = pc.createColors(useColor(process.stderr));
  const error = c.red(c.bold('error:'));
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return 0;
    process.stderr.write(`infra: ${error} ${err.message.replace(/^error: /, '')}\n`);
    return 2;
  }
  if (isUserError(err)) {
    const [first, ...rest] = err.message.split('\n');
    process.stderr.write(`infra: ${error} ${c.bold(first ?? '')}${rest.map((l) => `\n${l}`).join('')}\n`);
    return err.exitCode;
  }
  process.stderr.write(
    `infra: ${c.red(c.bold('internal error (this is a bug):'))}\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return 70;
}

async function dispatch(setup: Setup, argv: string[], where: ProjectState): Promise<void> {
  const program = new Commander('infra')
    .description('Build, run and measure instrumented programs, and report their overheads.')
    .version(packageVersion(), '-V, --version', 'print the version of infra')
    .showSuggestionAfterError(true)
    .enablePositionalOptions(false)
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();
  addOptions(program, [...GLOBAL_OPTIONS, ...LAUNCHER_OPTIONS]);
  program.configureOutput({ writeErr: () => {}, outputError: () => {} });

  // `infra help CMD` shows the same help as `infra CMD --help`
  const named = commandName(argv);
  const wanted = named === 'help' ? positionals(argv, staticOptions([]))[1] : named;
  for (const def of [...COMMANDS, ...setupCommandDefs(setup)]) {
    const sub = program.command(def.name).description(def.description).exitOverride();
    sub.configureOutput({ writeErr: () => {}, outputError: () => {} });
    for (const arg of def.args ?? []) sub.argument(arg.spec, arg.description);
    if (def.looseOptions) sub.allowUnknownOption().helpOption(false);
    if (def.examples?.length) sub.addHelpText('after', commandHelpFooter(def));
    if (def.name !== wanted) continue;
    // its options are the package's, so its help is only asked for in first place
    if (def.looseOptions && /^(-h|--help)$/.test(argv[argv.indexOf(def.name) + 1] ?? '')) {
      sub.outputHelp();
      return;
    }
    // only the invoked command pays for (and validates) target/instance options
    const ownSpecs = await ownOptions(def);
    const commandArgv = named === 'help' ? [] : argv.slice(argv.indexOf(def.name) + 1);
    const kind = def.declared;
    const declared = where.noProject
      ? [] // no targets or instances to ask; the action says there is no project
      : typeof kind === 'string'
        ? declaredOptions(setup, positionals(commandArgv, [...staticOptions(ownSpecs), ...everyDeclaredOption(setup, kind)]), kind)
        : [...(kind ?? [])];
    addOptions(sub, ownSpecs);
    // a target's option that a command also has (e.g. --benchmarks) is the target's own
    addOptions(
      sub,
      declared.filter((d) => !ownSpecs.some((o) => sameOption(o, d))),
    );
    sub.action(async (...params: unknown[]) => {
      if (where.noProject && def.needsProject !== false) throw new UserError(where.noProject, { exitCode: 2 });
      const cmdObj = params[params.length - 1] as Commander;
      const positional = params.slice(0, -2);
      const values = cmdObj.opts();
      const ctx = createContext(setup, program.opts<GlobalOptions>(), {
        dryRun: values.dryRun === true,
        args: pick(values, declared),
        debugLog: !where.noProject,
      });
      await def.run(setup, ctx, { positional, opts: pick(values, ownSpecs) });
    });
  }
  program.addHelpText('after', helpFooter(setup, where));
  if (argv.length === 0) {
    process.stdout.write(program.helpInformation() + helpFooter(setup, where) + '\n');
    return;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError && err.exitCode !== 0) {
      throw new UserError(err.message.replace(/^error: /, ''), { exitCode: 2 });
    }
    throw err;
  }
}

function addOptions(cmd: Commander, specs: readonly OptionSpec[]): void {
  for (const spec of specs) {
    const opt = new Option(spec.flags, spec.description);
    if (spec.choices) opt.choices(spec.choices);
    if (spec.parse) opt.argParser(spec.parse as (v: string, p: unknown) => unknown);
    if (spec.default !== undefined) opt.default(spec.default);
    cmd.addOption(opt);
  }
}

/** The values of exactly these options (an allow-list: nothing else reaches the caller). */
function pick(values: Record<string, unknown>, specs: readonly OptionSpec[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of specs) {
    const key = optionKey(spec);
    if (values[key] !== undefined) out[key] = values[key];
  }
  return out;
}

function sameOption(a: OptionSpec, b: OptionSpec): boolean {
  return optionKey(a) === optionKey(b);
}

function helpFooter(setup: Setup, where: ProjectState): string {
  const list = (m: Map<string, unknown>) => [...m.keys()].join(', ') || '(none)';
  const common =
    `\n'infra CMD --help' shows a command's options and examples; 'infra run TARGET INSTANCE... --help'\n` +
    `(and 'infra build TARGET INSTANCE... --help') adds the options of that target and those instances.\n`;
  if (where.noProject) {
    return (
      common +
      `\nNo project here (no setup script in ${process.cwd()} or its parents). Start one:\n` +
      `  infra init my-project && cd my-project && npm install\n` +
      `  infra run --build hello-world clang libcallcount\n`
    );
  }
  return common + `\nTargets: ${list(setup.targets)}\nInstances: ${list(setup.instances)}\nSetup script: ${setup.setupPath}\n`;
}

function commandHelpFooter(def: CommandDef): string {
  return `\nExamples:\n${(def.examples ?? []).map((e) => `  ${e}`).join('\n')}\n`;
}
