import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

test('completion: other shells are refused', () => {
  assert.throws(() => completionScript(setup, 'fish', []), /unknown shell 'fish'; valid shells: bash, zsh/);
});

// zsh: the script is loaded into a real interactive zsh (in a pseudo-terminal of zsh's own zpty
// module) and Tab pressed; a compadd wrapper prints each match and its description.
const zsh = spawnSync('zsh', ['--version']).status === 0;
const zshScriptFile = join(mkdtempSync(join(tmpdir(), 'infra-zsh-')), '_infra');
writeFileSync(zshScriptFile, completionScript(setup, 'zsh', await completionCommands(setup)));
const FIXTURES = join(import.meta.dirname, 'fixtures', 'zsh-completion');

/** What zsh offers (matches, and the descriptions shown beside them) for each line typed before Tab. */
function zshComplete(...lines: string[]): Array<{ matches: string[]; shown: string[] }> {
  const r = spawnSync('zsh', ['-f', join(FIXTURES, 'outer.zsh'), ...lines], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, INFRA_COMPLETION: zshScriptFile, INFRA_INNER: join(FIXTURES, 'inner.zsh') },
  });
  assert.equal(r.status, 0, r.stderr);
  // eslint-disable-next-line no-control-regex -- the terminal's escape sequences
  const clean = r.stdout.replace(/\r/g, '').replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '');
  return clean
    .split('<<LINE>>')
    .slice(1)
    .map((out) => {
      const of = (tag: string) => [...new Set([...out.matchAll(new RegExp(`${tag}:(.*)`, 'g'))].map((m) => m[1]!.trim()))].sort();
      return { matches: of('MATCH'), shown: of('SHOWN') };
    });
}

test('completion in zsh: commands with descriptions, also after a global option', { skip: !zsh && 'zsh is not installed' }, () => {
  const [r, afterV, afterJ] = zshComplete('infra r', 'infra -v r', 'infra -j 2 b');
  assert.deepEqual(r!.matches, ['report', 'run']);
  assert.ok(
    r!.shown.some((s) => s.startsWith('run') && s.includes('run a target built with one or more instances')),
    r!.shown.join('\n'),
  );
  assert.ok(
    r!.shown.some((s) => s.startsWith('report') && s.includes('report results of runs')),
    r!.shown.join('\n'),
  );
  assert.deepEqual(afterV!.matches, ['report', 'run']);
  assert.deepEqual(afterJ!.matches, ['build']);
});

test(
  "completion in zsh: each command's options with descriptions, option values and names",
  { skip: !zsh && 'zsh is not installed' },
  () => {
    const [runOpts, parallel, size, target, instance, afterValue, clean, build] = zshComplete(
      'infra run --',
      'infra run suite plain --parallel ',
      'infra build suite plain --suite-size ',
      'infra run ',
      'infra run suite ',
      'infra run -i 3 suite p',
      'infra clean --targets ',
      'infra build suite plain --',
    );
    for (const flag of ['--iterations', '--timeout', '--warmup', '--suite-input', '--suite-size', '--parallel', '--verbosity'])
      assert.ok(runOpts!.matches.includes(flag), `run offers ${flag}`);
    assert.ok(
      runOpts!.shown.some((s) => s.startsWith('--suite-input') && s.includes('an input file')),
      'with its description',
    );
    assert.deepEqual(parallel!.matches, ['proc', 'prun', 'slurm', 'ssh']);
    assert.deepEqual(size!.matches, ['large', 'small']);
    assert.deepEqual(target!.matches, ['suite']);
    assert.deepEqual(instance!.matches, ['fast', 'plain']);
    assert.deepEqual(afterValue!.matches, ['plain']);
    assert.deepEqual(clean!.matches, ['suite']);
    assert.ok(build!.matches.includes('--deps-only') && !build!.matches.includes('--suite-input'), 'a run option is not a build option');
  },
);

test(
  'completion in zsh: every option the parser declares is offered for its command',
  { skip: !zsh && 'zsh is not installed' },
  async () => {
    const commands = await completionCommands(setup);
    const lines = commands.map((c) => `infra ${c.name} --`);
    const offered = zshComplete(...lines);
    commands.forEach((c, i) => {
      const long = c.options.flatMap((o) => o.flags.split(/[ ,|]+/).filter((f) => f.startsWith('--')));
      assert.deepEqual(offered[i]!.matches, [...new Set(long)].sort(), `infra ${c.name}`);
    });
  },
);

test('completion: instance names for --overhead and -i, field names for -f and --groupby, in zsh also FIELD:AGGREGATION', () => {
  assert.deepEqual(complete('report', 'suite', 'results/last', '--overhead', ''), ['fast', 'plain']);
  assert.deepEqual(complete('report', 'suite', 'results/last', '-i', 'p'), ['plain']);
  assert.deepEqual(complete('compare', 'a', 'b', '--instances', 'f'), ['fast']);
  const fields = complete('report', 'suite', 'results/last', '-f', '');
  for (const f of ['runtime', 'maxrss', 'benchmark', 'instance', 'status']) assert.ok(fields.includes(f), `-f offers ${f}`);
  assert.deepEqual(complete('report', 'suite', 'results/last', '--groupby', 'ben'), ['benchmark']);
  if (!zsh) return;
  const [overhead, field, agg, more] = zshComplete(
    'infra report suite results/last --overhead ',
    'infra report suite results/last -f max',
    'infra report suite results/last -f runtime:me',
    'infra report suite results/last -f runtime:median:stdev_',
  );
  assert.deepEqual(overhead!.matches, ['fast', 'plain']);
  assert.deepEqual(field!.matches, ['maxrss']);
  // after a colon: the aggregations, as many as wanted
  assert.deepEqual(agg!.matches, ['mean', 'median']);
  assert.deepEqual(more!.matches, ['stdev_percent', 'stdev_sample']);
});
