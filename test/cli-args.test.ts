// Finding the target and instance names on a command line before the full parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { positionals } from '../src/cli/commands.ts';

const specs = [
  { flags: '-i, --iterations <n>', description: '' },
  { flags: '--benchmarks <names...>', description: '' },
  { flags: '--answer <n>', description: '' },
  { flags: '-t, --test', description: '' },
  { flags: '--build', description: '' },
];

test('option values are not taken for target or instance names', () => {
  assert.deepEqual(positionals(['--answer', '41', 'faults', 'base'], specs), ['faults', 'base']);
  assert.deepEqual(positionals(['faults', '-i', '3', 'base', 'slow', '--test'], specs), ['faults', 'base', 'slow']);
  assert.deepEqual(positionals(['--iterations=3', 'faults', 'base'], specs), ['faults', 'base']);
  assert.deepEqual(positionals(['faults', 'base', '--benchmarks', 'a', 'b', '--build'], specs), ['faults', 'base']);
  assert.deepEqual(positionals(['--build', 'faults', 'base', '--', '-x'], specs), ['faults', 'base', '-x']);
});
