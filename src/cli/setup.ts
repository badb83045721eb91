import { Setup as Registry } from '../core/setup.js';

let lastCreated: Setup | undefined;
let launchArgs: string[] | undefined;

/**
 * A project's setup: the registry of its targets, instances and commands, and the command
 * line that acts on them. A setup script creates one, registers what it uses, and calls
 * {@link main}:
 *
 * ```ts
 * const setup = new Setup(import.meta.url);
 * setup.addTarget(new MyTarget());
 * setup.addInstance(new Clang(llvm));
 * await setup.main();
 * ```
 */
export class Setup extends Registry {
  #started = false;

  /** @param setupFile `import.meta.url` of the setup script, or its path. */
  constructor(setupFile: string) {
    super(setupFile);
    // the launcher finds the script's Setup here after importing the script
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    lastCreated = this;
  }

  /**
   * Parses the command line, runs the command and sets `process.exitCode`. Errors are handled
   * here (one place): a UserError prints its message, anything else a stack trace; both exit
   * non-zero. Resolves when the command is done; never throws.
   */
  async main(argv: string[] = launchArgs ?? process.argv.slice(2)): Promise<void> {
    this.#started = true;
    const { runCli } = await import('./main.js');
    await runCli(this, argv);
  }

  /** @internal whether main() has been called (the `infra` launcher calls it if not). */
  get started(): boolean {
    return this.#started;
  }
}

/** @internal the Setup most recently constructed (used by the `infra` launcher). */
export function lastSetup(): Setup | undefined {
  return lastCreated;
}

/** @internal the `infra` launcher's command line, used by main() when called without arguments. */
export function setLaunchArgs(args: string[]): void {
  launchArgs = args;
}
