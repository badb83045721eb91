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
  /** Declares the command's options. */
  addArgs?(parser: ArgParser): void;
  /** Runs the command (its option values are in `ctx.args`). */
  run(ctx: Context, setup: Setup): Awaitable<void>;
}

/**
 * The registry of a project's targets, instances and commands, as the commands see it. Setup
 * scripts use its subclass with `main()` (exported as `Setup` from the package), which runs
 * the command line.
 */
export class Setup {
  /** Absolute path of the setup script. */
  readonly setupPath: string;
  /** The project root (directory of the setup script); build/ and results/ live here. */
  readonly root: string;
  readonly targets = new Map<string, Target>();
  readonly instances = new Map<string, Instance>();
  readonly commands = new Map<string, Command>();

  /** @param setupFile `import.meta.url` of the setup script, or its path. */
  constructor(setupFile: string) {
    const path = setupFile.startsWith('file:') ? fileURLToPath(setupFile) : resolve(setupFile);
    this.setupPath = safeRealpath(path);
    this.root = dirname(this.setupPath);
  }

  /** Registers a target (listed in registration order). */
  addTarget(target: Target): this {
    register('target', this.targets, target.name, target);
    return this;
  }

  /** Registers an instance (listed in registration order). */
  addInstance(instance: Instance): this {
    register('instance', this.instances, instance.name, instance);
    return this;
  }

  /** Registers a command of the project's own (`infra NAME`). */
  addCommand(command: Command): this {
    register('command', this.commands, command.name, command);
    return this;
  }

  /** The target of that name; an unknown name is an error with the valid names. */
  getTarget(name: string): Target {
    const t = this.targets.get(name);
    if (!t) throw unknownName('target', name, this.targets.keys());
    return t;
  }

  /** The instance of that name; an unknown name is an error with the valid names. */
  getInstance(name: string): Instance {
    const i = this.instances.get(name);
    if (!i) throw unknownName('instance', name, this.instances.keys());
    return i;
  }
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
