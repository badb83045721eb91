import { Command as Commander, CommanderError, Option } from 'commander';
import { UserError, InterruptedError, isUserError } from '../core/errors.js';
import { OptionCollector, positiveInt, type OptionSpec } from '../core/options.js';
import type { Setup } from '../core/setup.js';
import { killAll } from '../exec/children.js';
import { interrupt, isInterrupted, throwIfInterrupted } from '../exec/interrupt.js';
import { createContext, type GlobalOptions } from './context.js';
import { COMMANDS, GLOBAL_VALUE_OPTIONS, positionals, type CommandDef } from './commands.js';


/**
 * The single place where errors become messages and exit statuses. A UserError prints its
 * message; anything else is a bug and prints a stack trace. Both exit non-zero.
 */
export async function runCli(setup: Setup, argv: string[]): Promise<void> {
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
    await dispatch(setup, argv);
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
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return 0;
    process.stderr.write(`infra: error: ${err.message.replace(/^error: /, '')}\n`);
    return 2;
  }
  if (isUserError(err)) {
    process.stderr.write(`infra: error: ${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(`infra: internal error (this is a bug):\n${(err as Error)?.stack ?? String(err)}\n`);
  return 70;
}

async function dispatch(setup: Setup, argv: string[]): Promise<void> {
  const program = new Commander('infra')
    .description('Build, run and measure instrumented programs, and report their overheads.')
    .option('-v, --verbosity', 'debug output on stderr (the debug log always has it)', (_v: string, prev: number) => prev + 1, 0)
    .option('-q, --quiet', 'only warnings and errors')
    .option('-j, --jobs <n>', 'parallel jobs for build systems (default: cores, at most 16)', positiveInt('--jobs'))
    .option(
      '--source-mirror <dir>',
      'directory searched (by sha256) for source archives before any download; repeatable (env INFRA_SOURCE_MIRROR)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .showSuggestionAfterError(true)
    .enablePositionalOptions(false)
    .exitOverride();
  program.configureOutput({ writeErr: () => {} , outputError: () => {} });

  const wanted = firstCommand(argv);
  const defs: CommandDef[] = [...COMMANDS];
  for (const cmd of setup.commands.values()) {
    defs.push({
      name: cmd.name,
      description: cmd.description,
      options: () => {
        const col = new OptionCollector();
        cmd.addArgs?.(col);
        return col.specs;
      },
      run: async (s, ctx) => cmd.run(ctx, s),
    });
  }
  for (const def of defs) {
    const sub = program.command(def.name).description(def.description).exitOverride();
    sub.configureOutput({ writeErr: () => {}, outputError: () => {} });
    for (const arg of def.args ?? []) sub.argument(arg.spec, arg.description);
    if (def.looseOptions) sub.allowUnknownOption().helpOption(false);
    if (def.name === wanted) {
      // only the invoked command pays for (and validates) target/instance options
      const specs = await def.options({ setup, argv: argv.slice(argv.indexOf(wanted) + 1) });
      addOptions(sub, specs);
      sub.action(async (...params: unknown[]) => {
        const cmdObj = params[params.length - 1] as Commander;
        const positional = params.slice(0, -2) as unknown[];
        const opts = cmdObj.opts();
        const global = program.opts() as GlobalOptions;
        const ctx = createContext(setup, global, opts);
        await def.run(setup, ctx, positional, opts);
      });
    }
  }
  program.addHelpText('after', helpFooter(setup));
  if (argv.length === 0) {
    process.stdout.write(program.helpInformation() + helpFooter(setup) + '\n');
    throw new UserError('no command given; see the list above', { exitCode: 2 });
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

function addOptions(cmd: Commander, specs: OptionSpec[]): void {
  for (const spec of specs) {
    const opt = new Option(spec.flags, spec.description);
    if (spec.choices) opt.choices(spec.choices as string[]);
    if (spec.parse) opt.argParser(spec.parse as (v: string, p: unknown) => unknown);
    if (spec.default !== undefined) opt.default(spec.default);
    cmd.addOption(opt);
  }
}

/** The command name: the first argument that is neither a global option nor its value. */
function firstCommand(argv: string[]): string | undefined {
  return positionals(argv, GLOBAL_VALUE_OPTIONS)[0];
}

function helpFooter(setup: Setup): string {
  const list = (m: Map<string, unknown>) => ([...m.keys()].sort().join(', ') || '(none)');
  return (
    `\nAlso: infra init DIR (a new project), infra --setup FILE COMMAND (another setup script), infra --version\n` +
    `\nTargets: ${list(setup.targets)}\nInstances: ${list(setup.instances)}\nSetup script: ${setup.setupPath}\n`
  );
}
