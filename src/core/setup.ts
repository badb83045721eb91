import { realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from './context.js';
import { UserError, unknownName } from './errors.js';
import type { Instance } from './instance.js';
import type { ArgParser } from './options.js';
import type { Awaitable } from './package.js';
import type { Target } from './target.js';

/** A command a setup script adds next to the built-in ones (`setup.addCommand`). */
export interface Command {
  readonly name: string;
  readonly description: string;
  addArgs?(parser: ArgParser): void;
  run(ctx: Context, setup: Setup): Awaitable<void>;
}

let lastCreated: Setup | undefined;
let launchArgs: string[] | undefined;

/** @internal the `infra` launcher's command line, used by main() when called without arguments. */
export function setLaunchArgs(args: string[]): void {
  launchArgs = args;
}

/**
 * The registry of a project's targets, instances and commands. A setup script creates one,
 * registers what it uses, and calls {@link main}:
 *
 * ```ts
 * const setup = new Setup(import.meta.url);
 * setup.addTarget(new MyTarget());
 * setup.addInstance(new Clang(llvm));
 * await setup.main();
 * ```
 */
export class Setup {
  /** Absolute path of the setup script. */
  readonly setupPath: string;
  /** The project root (directory of the setup script); build/ and results/ live here. */
  readonly root: string;
  readonly targets = new Map<string, Target>();
  readonly instances = new Map<string, Instance>();
  readonly commands = new Map<string, Command>();
  private mainStarted = false;

  /** @param setupFile `import.meta.url` of the setup script, or its path. */
  constructor(setupFile: string) {
    const path = setupFile.startsWith('file:') ? fileURLToPath(setupFile) : resolve(setupFile);
    this.setupPath = safeRealpath(path);
    this.root = dirname(this.setupPath);
    lastCreated = this;
  }

  addTarget(target: Target): this {
    register('target', this.targets, target.name, target);
    return this;
  }

  addInstance(instance: Instance): this {
    register('instance', this.instances, instance.name, instance);
    return this;
  }

  addCommand(command: Command): this {
    register('command', this.commands, command.name, command);
    return this;
  }

  getTarget(name: string): Target {
    const t = this.targets.get(name);
    if (!t) throw unknownName('target', name, this.targets.keys());
    return t;
  }

  getInstance(name: string): Instance {
    const i = this.instances.get(name);
    if (!i) throw unknownName('instance', name, this.instances.keys());
    return i;
  }

  /**
   * Parses the command line, runs the command and sets `process.exitCode`. Errors are handled
   * here (one place): a UserError prints its message, anything else a stack trace; both exit
   * non-zero. Resolves when the command is done; never throws.
   */
  async main(argv: string[] = launchArgs ?? process.argv.slice(2)): Promise<void> {
    this.mainStarted = true;
    const { runCli } = await import('../cli/main.js');
    await runCli(this, argv);
  }

  /** @internal whether main() has been called (the `infra` launcher calls it if not). */
  get started(): boolean {
    return this.mainStarted;
  }
}

/** @internal the Setup most recently constructed (used by the `infra` launcher). */
export function lastSetup(): Setup | undefined {
  return lastCreated;
}

function register<T>(kind: string, map: Map<string, T>, name: string, value: T): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.+-]*$/.test(name)) {
    throw new UserError(`invalid ${kind} name ${JSON.stringify(name)}: use letters, digits, '.', '_', '+', '-'`);
  }
  if (map.has(name)) throw new UserError(`${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} named '${name}' is already registered`);
  map.set(name, value);
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
