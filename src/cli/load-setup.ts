import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from '../core/errors.js';
import { packageFile } from '../paths.js';

/** The compiled library entry that a setup script's `import ... from 'instrumentation-infra'` means. */
const LIBRARY_ENTRY = packageFile('dist', 'index.js');

interface CacheMeta {
  entry: string;
  output: string;
  inputs: Array<{ path: string; mtimeMs: number; size: number }>;
}

/**
 * Loads a TypeScript setup script. It is bundled with its local imports by esbuild into
 * build/.infra/setup-cache (library and npm packages stay external) and the result is
 * imported. The bundle is reused while no input file changed, so a warm start costs one
 * stat per input and no transpiler at all.
 */
export async function loadSetupScript(setupPath: string): Promise<void> {
  const root = dirname(setupPath);
  const cacheDir = join(root, 'build', '.infra', 'setup-cache');
  const key = createHash('sha256').update(setupPath).update(LIBRARY_ENTRY).digest('hex').slice(0, 16);
  const metaFile = join(cacheDir, `${key}.json`);
  let output = freshOutput(metaFile);
  if (!output) output = await compile(setupPath, cacheDir, key, metaFile);
  try {
    await import(pathToFileURL(output).href);
  } catch (err) {
    if (err instanceof UserError) throw err;
    // a script may throw anything, not only an Error
    const message = err instanceof Error ? err.message : String(err);
    const stack = err instanceof Error ? (err.stack ?? message) : message;
    throw new UserError(
      `the setup script ${setupPath} failed while loading: ${message}` +
        (process.env.INFRA_DEBUG ? `\n${stack}` : `\n  (set INFRA_DEBUG=1 for the stack trace)`),
      { cause: err },
    );
  }
}

function previousOutput(metaFile: string): string | null {
  try {
    return (JSON.parse(readFileSync(metaFile, 'utf8')) as CacheMeta).output;
  } catch {
    return null;
  }
}

function freshOutput(metaFile: string): string | null {
  let meta: CacheMeta;
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8')) as CacheMeta;
  } catch {
    return null;
  }
  if (!existsSync(meta.output)) return null;
  for (const input of meta.inputs) {
    try {
      const st = statSync(input.path);
      if (st.mtimeMs !== input.mtimeMs || st.size !== input.size) return null;
    } catch {
      return null;
    }
  }
  return meta.output;
}

async function compile(setupPath: string, cacheDir: string, key: string, metaFile: string): Promise<string> {
  const esbuild = await import('esbuild');
  mkdirSync(cacheDir, { recursive: true });
  const output = join(cacheDir, `${key}.${Date.now().toString(36)}.mjs`);
  let result;
  try {
    result = await esbuild.build({
      entryPoints: [setupPath],
      outfile: output,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      metafile: true,
      logLevel: 'silent',
      sourcemap: 'inline',
      write: true,
      plugins: [
        {
          name: 'infra-library',
          setup(build) {
            // the library resolves to the very modules the CLI already loaded
            build.onResolve({ filter: /^instrumentation-infra(\/.*)?$/ }, (args) =>
              args.path === 'instrumentation-infra'
                ? { path: LIBRARY_ENTRY, external: true }
                : { errors: [{ text: `import from 'instrumentation-infra' itself: '${args.path}' is not part of its API` }] },
            );
            // each bundled file keeps its own location in import.meta
            build.onLoad({ filter: /\.(m|c)?(t|j)sx?$/ }, (args) => {
              if (args.path.includes('/node_modules/')) return undefined;
              const src = readFileSync(args.path, 'utf8')
                .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href))
                .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(dirname(args.path)))
                .replace(/\bimport\.meta\.filename\b/g, JSON.stringify(args.path));
              const ext = args.path.split('.').pop()!;
              const loader = ext.includes('ts') ? (ext.endsWith('x') ? 'tsx' : 'ts') : ext.endsWith('x') ? 'jsx' : 'js';
              return { contents: src, loader };
            });
          },
        },
      ],
    });
  } catch (err) {
    const errors = (err as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } }> }).errors;
    if (errors?.length) {
      const lines = errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text));
      throw new UserError(`the setup script does not compile:\n  ${lines.join('\n  ')}`);
    }
    throw err;
  }
  const inputs = Object.keys(result.metafile.inputs).map((p) => {
    const abs = resolve(p);
    const st = statSync(abs);
    return { path: abs, mtimeMs: st.mtimeMs, size: st.size };
  });
  const meta: CacheMeta = { entry: setupPath, output, inputs };
  const previous = previousOutput(metaFile);
  const tmp = `${metaFile}.${process.pid}`;
  writeFileSync(tmp, JSON.stringify(meta));
  renameSync(tmp, metaFile);
  // the bundle this one replaces is no longer used (a process still running has it loaded)
  if (previous && previous !== output) rmSync(previous, { force: true });
  return output;
}
