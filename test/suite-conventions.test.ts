// The built-ins use the framework's shared helpers and public API, as a user's own code would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO } from './helpers.ts';

function sources(dir: string, ext = /\.ts$/): string[] {
  return readdirSync(join(REPO, dir), { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && ext.test(d.name))
    .map((d) => join(d.parentPath, d.name));
}

test('built-in targets, packages and instances hash files only with sha256File', () => {
  const own = ['src/targets', 'src/packages', 'src/instances'].flatMap((d) => sources(d));
  assert.ok(own.length > 10);
  // a streamed file digest of their own: createReadStream feeding createHash
  const offenders = own.filter((f) => {
    const text = readFileSync(f, 'utf8');
    return /\bcreateHash\b/.test(text) && /\bcreateReadStream\b/.test(text);
  });
  assert.deepEqual(
    offenders.map((f) => relative(REPO, f)),
    [],
  );
});

test('setup scripts in tests and benchmarks import the framework by its public name only', () => {
  const files = [...sources('test'), ...sources('bench')];
  const deep = files.flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => /from ['"]instrumentation-infra\//.test(l))
      .map((l) => `${relative(REPO, f)}: ${l.trim()}`),
  );
  assert.deepEqual(deep, []);
});
