// The run options table, the settings a run stores, and what `run --resume` accepts, in-process.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { currentSettings, resumedSettings } from '../src/commands/run-settings.js';
import type { Context } from '../src/core/context.js';
import { Instance } from '../src/core/instance.js';
import type { ArgParser } from '../src/core/options.js';
import type { RunMeta } from '../src/results/schema.js';
import { executionSettings, resolveRunOptions, runOptionSpecs } from '../src/run/settings.js';
import { DemoTarget, makeContext, runMeta } from './run-fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'infra-run-settings-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

class Faults extends DemoTarget {
  constructor() {
    super([]);
  }
  override addRunArgs(p: ArgParser) {
    p.option('--benchmarks <names...>', 'which programs to run', { default: ['ok'] });
  }
}

class Named extends Instance {
  constructor(readonly name: string) {
    super();
  }
}

const base = new Named('base');
const slow = new Named('slow');

/** A context as the CLI makes it for `run faults ...`: the target's options with their defaults. */
function cliContext(args: Record<string, unknown> = {}): Context {
  const ctx = makeContext(root);
  ctx.args = { benchmarks: ['ok'], ...args };
  return ctx;
}

/** meta.json of a run of `faults base --benchmarks slow -i 6`. */
function storedRun(): RunMeta {
  const meta = runMeta(root);
  meta.instances = [{ name: 'base' }];
  meta.settings = currentSettings(cliContext({ benchmarks: ['slow'] }), ['base'], { iterations: 6 });
  return meta;
}

const resume = (meta: RunMeta, given: object, args: Record<string, unknown> = {}, instances = [base]) =>
  resumedSettings('results/run.x', meta, cliContext(args), new Faults(), instances, given);

describe('run options', () => {
  test('each option becomes a command-line option without a default (resume tells given from left out)', () => {
    const flags = runOptionSpecs.map((s) => s.flags);
    for (const f of [
      '--build',
      '--resume <rundir>',
      '-i, --iterations <n>',
      '--warmup <n>',
      '--timeout <seconds>',
      '--cpus <list>',
      '--nothp',
      '--linger <seconds>',
      '--parallel <mode>',
      '--parallelmax <n>',
      '--ssh-nodes <hosts...>',
      '--slurm-opts <options>',
      '--prun-opts <options>',
    ]) {
      assert.ok(flags.includes(f), f);
    }
    assert.ok(runOptionSpecs.every((s) => s.default === undefined));
    assert.deepEqual(runOptionSpecs.find((s) => s.flags.startsWith('--parallel '))!.choices, ['proc', 'ssh', 'slurm', 'prun']);
    assert.throws(
      () => runOptionSpecs.find((s) => s.flags.includes('--iterations'))!.parse!('0', undefined),
      /--iterations must be a positive integer/,
    );
  });

  test('a new run stores every setting once, defaults included; args are a copy of ctx.args', () => {
    assert.deepEqual(resolveRunOptions({}), { iterations: 1, warmup: 0, nothp: false, parallelmax: 1 });
    assert.equal(resolveRunOptions({ parallel: 'proc' }).parallelmax, availableParallelism());
    assert.equal(resolveRunOptions({ parallel: 'ssh' }).parallelmax, 1);
    assert.equal(resolveRunOptions({ parallelmax: 4 }).parallelmax, 1, 'a serial run executes one at a time');
    const ctx = cliContext({ benchmarks: ['a', 'b'] });
    const settings = currentSettings(ctx, ['base', 'slow'], { iterations: 4, timeout: 9, sshNodes: undefined });
    assert.deepEqual(settings, {
      iterations: 4,
      warmup: 0,
      timeout: 9,
      nothp: false,
      parallelmax: 1,
      instances: ['base', 'slow'],
      args: { benchmarks: ['a', 'b'] },
    });
    (ctx.args.benchmarks as string[]).push('c');
    assert.deepEqual(settings.args.benchmarks, ['a', 'b'], 'a copy');
    assert.deepEqual(executionSettings(settings), { timeout: 9, nothp: false });
  });
});

describe('run --resume', () => {
  test("options that contradict the run are refused, each named with the run's value", () => {
    const meta = storedRun();
    assert.throws(() => resume(meta, { iterations: 3 }), { name: 'UserError', message: /--iterations 3 \(the run used 6\)/ });
    assert.throws(
      () => resume(meta, { iterations: 1 }),
      /--iterations 1 \(the run used 6\)/,
      'an explicit -i 1 is not mistaken for the default',
    );
    assert.throws(() => resume(meta, {}, { benchmarks: ['answer'] }), /--benchmarks answer \(the run used slow\)/);
    assert.throws(
      () => resume(meta, {}, {}, [base, slow]),
      /the run has base, the command line base slow; resume with: infra run demo base --resume results\/run\.x/,
    );
    const both = () => resume(meta, { timeout: 5, nothp: true, warmup: 0 });
    assert.throws(both, /--timeout 5 \(the run used none\); --nothp true \(the run used false\); leave them out/);
    assert.throws(
      () => resumedSettings('r', { ...meta, target: 'other' }, cliContext(), new Faults(), [base], {}),
      /holds results of target 'other'/,
    );
  });

  test("options left out (or given as the run had them) take the run's values, also in ctx.args", () => {
    const ctx = cliContext();
    const settings = resumedSettings('r', storedRun(), ctx, new Faults(), [base], { iterations: 6, warmup: 0 });
    assert.equal(settings.iterations, 6);
    assert.deepEqual(ctx.args.benchmarks, ['slow']);
    assert.deepEqual(settings.args, { benchmarks: ['slow'] });
  });

  test("remote options given again replace the run's (other nodes for the rest of a run)", () => {
    const meta = storedRun();
    meta.settings = { ...meta.settings!, parallel: 'ssh', sshNodes: ['a'] };
    assert.deepEqual(resume(meta, { sshNodes: ['b', 'c'] }).sshNodes, ['b', 'c']);
    assert.deepEqual(resume(meta, {}).sshNodes, ['a']);
  });

  test('older run directories: top-level iterations and parallelism, or remote options nested', () => {
    const old = storedRun();
    delete old.settings;
    Object.assign(old, { iterations: 5, parallel: 'proc', parallelmax: 3 });
    const settings = resume(old, {});
    assert.deepEqual([settings.iterations, settings.parallel, settings.parallelmax], [5, 'proc', 3]);
    assert.throws(() => resume(old, { parallelmax: 2 }), /--parallelmax 2 \(the run used 3\)/);

    const nested = storedRun();
    const { sshNodes: _, ...rest } = nested.settings!;
    nested.settings = { ...rest, parallel: 'ssh', remote: { sshNodes: ['n1'] } } as never;
    assert.deepEqual(resume(nested, {}).sshNodes, ['n1']);
  });
});
