// Builds dist/: the library and the CLI bundled by esbuild (ESM, one chunk per lazily loaded
// command), so starting `infra` reads a few files instead of a hundred modules. Type
// declarations come from tsc (npm run build runs both).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}dist`, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  // every output file sits directly in dist/, one level below the package root, which is
  // where src/paths.ts expects to be
  // lines-worker: the entry of the worker threads that read a large records.jsonl in parts
  entryPoints: { index: 'src/index.ts', launch: 'src/cli/launch.ts', 'lines-worker': 'src/results/lines-worker.ts' },
  outdir: 'dist',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
