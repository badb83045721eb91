import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { completionCommands } from '../src/cli/commands.js';
import { completionScript } from '../src/commands/completion.js';
import { Setup } from '../src/core/setup.js';
import { Instance, Target, type ArgParser } from '../src/index.js';

class Suite extends Target {
  readonly name = 'suite';
  override addBuildArgs(p: ArgParser) {
    p.option('--suite-size <size>', 'input size', { choices: ['small', 'large'] });
  }
  override addRunArgs(p: ArgParser) {
    p.option('--suite-input <file>', 'an input file');
  }
  isFetched() {
    return true;
  }
  fetch() {}
  build() {}
  run() {}
}
class Plain extends Instance {
  readonly name = 'plain';
}
class Fast extends Instance {
  readonly name = 'fast';
}

const setup = new Setup('/nonexistent/setup.ts');
setup.addTarget(new Suite()).addInstance(new Plain()).addInstance(new Fast());
const script = completionScript(setup, 'bash', await completionCommands(setup));

/** What bash completes for the words typed so far (the last one is the word being completed). */
function complete(...words: string[]): string[] {
  const quoted = ['infra', ...words].map((w) => `'${w}'`).join(' ');
  const r = spawnSync(
    'bash',
    ['-c', `${script}\nCOMP_WORDS=(${quoted}); COMP_CWORD=${words.length}; _infra; printf '%s\\n' "\${COMPREPLY[@]}"`],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

test('completion: commands, also after a global option', () => {
  assert.deepEqual(complete('r'), ['report', 'run']);
  assert.deepEqual(complete('-v', 'r'), ['report', 'run']);
  assert.deepEqual(complete('-j', '2', 'b'), ['build']);
  assert.deepEqual(complete('-v', 'debug', 'r'), ['report', 'run']);
  assert.deepEqual(complete('-v', 'debug', 'run', ''), ['suite']);
  assert.deepEqual(complete('c'), ['check', 'clean', 'compare', 'completion', 'config']);
});

test("completion: each command's own options and the target's declared ones", () => {
  const run = complete('run', '--');
  for (const flag of ['--iterations', '--timeout', '--warmup', '--suite-input', '--suite-size', '--parallel'])
    assert.ok(run.includes(flag), `run offers ${flag}`);
  const build = complete('build', '--');
  assert.ok(build.includes('--deps-only'));
  assert.ok(build.includes('--suite-size'));
  assert.ok(!build.includes('--suite-input'), 'a run option is not a build option');
  assert.ok(!build.includes('--iterations'));
  const report = complete('report', '--');
  for (const flag of ['--table', '--overhead', '--field']) assert.ok(report.includes(flag), `report offers ${flag}`);
});

test('completion: names and option values', () => {
  assert.deepEqual(complete('run', ''), ['suite']);
  assert.deepEqual(complete('run', 'suite', ''), ['fast', 'plain']);
  assert.deepEqual(complete('run', 'suite', 'plain', 'f'), ['fast']);
  assert.deepEqual(complete('run', 'suite', 'plain', '--parallel', ''), ['proc', 'prun', 'slurm', 'ssh']);
  assert.deepEqual(complete('build', 'suite', 'plain', '--suite-size', ''), ['large', 'small']);
  assert.deepEqual(complete('clean', '--targets', ''), ['suite']);
  assert.deepEqual(complete('exec-hook', 'p'), ['post-build', 'post-run', 'pre-build', 'pre-run']);
  assert.deepEqual(complete('completion', ''), ['bash', 'zsh']);
  // an option's value is no positional: the instance comes next
  assert.deepEqual(complete('run', '-i', '3', 'suite', 'p'), ['plain']);
});

test('completion: zsh uses the same function; other shells are refused', () => {
  const zsh = completionScript(setup, 'zsh', []);
  assert.match(zsh, /^#compdef infra\nautoload -U \+X bashcompinit/);
  assert.throws(() => completionScript(setup, 'fish', []), /unknown shell 'fish'; valid shells: bash, zsh/);
});
