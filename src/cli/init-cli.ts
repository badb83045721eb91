import { UserError } from '../core/errors.js';

/** `infra init DIR [--force]`: creates a new project from the scaffold. */
export async function initCommand(argv: string[]): Promise<void> {
  const force = argv.includes('--force');
  const rest = argv.filter((a) => a !== '--force');
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(
      'Usage: infra init DIR [--force]\n\nCreate a project: setup script, example LLVM pass, runtime library, hello-world target.\n',
    );
    return;
  }
  if (rest.length !== 1 || rest[0]!.startsWith('-')) throw new UserError('usage: infra init DIR [--force]', { exitCode: 2 });
  const { init } = await import('../commands/init.js');
  await init({ dir: rest[0]!, force });
}
