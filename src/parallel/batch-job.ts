import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { envFileContent, helperArguments, resultFromHelper } from '../exec/measure.js';
import { quote } from '../util/shell.js';
import type { QueuedExecution } from './batch.js';
import type { BackendResult } from './pool.js';
import { errorResult, tail } from './remote.js';

/**
 * One batch job (slurm, prun) in a directory the cluster's nodes share with this machine: a
 * script that runs its executions through the measurement helper in turn, each leaving its own
 * files, which this machine picks up as they appear, so each execution is recorded as soon as
 * it has finished rather than when the whole job has. With several ranks (prun `-np N`), rank
 * r runs executions r, r+N, r+2N... in turn, all ranks at once.
 *
 * Files of execution i: `i.env` (its environment, 0600, removed by the helper once read),
 * `i.started` (it began), `i.json` (the helper's result, written atomically), `i.herr` (what
 * the helper itself printed), `i.error` (its working directory is missing) and `i.done` (its
 * helper's exit status; written last, so the others are complete when it exists). `host.r`:
 * the node rank r ran on; `job.out`: what the batch system and the script printed.
 */
export class BatchJob {
  readonly script: string;
  readonly output: string;
  /** Index of the next execution to collect, per rank. */
  private readonly next: number[];
  private readonly executions: Array<QueuedExecution | undefined>;
  private left: number;

  constructor(
    readonly dir: string,
    batch: QueuedExecution[],
    helper: string,
    readonly ranks = 1,
  ) {
    this.executions = [...batch];
    this.left = batch.length;
    this.next = Array.from({ length: ranks }, (_, r) => r);
    this.script = join(dir, 'job.sh');
    this.output = join(dir, 'job.out');
    mkdirSync(dir, { recursive: true });
    const lines = ['#!/bin/sh', ranks > 1 ? 'r=${PRUN_CPU_RANK:-0}' : 'r=0', `hostname > ${quote(dir)}/host.$r 2>/dev/null`];
    for (let rank = 0; rank < ranks; rank++) {
      if (ranks > 1) lines.push(`if [ "$r" = ${rank} ]; then`);
      for (let i = rank; i < batch.length; i += ranks) lines.push(...this.prepare(i, batch[i]!, helper));
      if (ranks > 1) lines.push('fi');
    }
    lines.push('');
    writeFileSync(this.script, lines.join('\n'), { mode: 0o700 });
  }

  /** Writes execution i's environment file and returns the script lines that run it. */
  private prepare(i: number, { spec }: QueuedExecution, helper: string): string[] {
    mkdirSync(dirname(spec.stdoutPath), { recursive: true });
    mkdirSync(dirname(spec.stderrPath), { recursive: true });
    const file = (ext: string) => join(this.dir, `${i}.${ext}`);
    // the benchmark's environment: readable by the owner only, removed by the helper once read
    writeFileSync(file('env'), envFileContent(spec.env), { mode: 0o600 });
    const args = helperArguments(spec, { stdout: spec.stdoutPath, stderr: spec.stderrPath, result: file('json'), env: file('env') });
    const missing = `echo "working directory does not exist on $(hostname): "${quote(spec.cwd)} > ${quote(file('error'))}`;
    return [
      `: > ${quote(file('started'))}`,
      // a subshell: its cd does not reach the next execution
      `(cd -- ${quote(spec.cwd)} 2>/dev/null || { ${missing}; exit 98; }; exec ${[helper, ...args].map(quote).join(' ')} </dev/null 2>${quote(file('herr'))})`,
      `echo $? > ${quote(file('done'))}`,
    ];
  }

  /** Executions not yet collected. */
  get pending(): number {
    return this.left;
  }

  /**
   * Settles every execution that has finished since the last call, in the order each rank
   * ran them. `onResult` may adjust a result (e.g. a time limit the batch system enforced).
   */
  collect(onResult: (r: BackendResult) => BackendResult = (r) => r): void {
    for (let rank = 0; rank < this.ranks; rank++) {
      while (this.next[rank]! < this.executions.length && existsSync(join(this.dir, `${this.next[rank]}.done`))) {
        const i = this.next[rank]!;
        this.next[rank] = i + this.ranks;
        this.settle(i, onResult(this.finished(i, rank)));
      }
    }
  }

  /**
   * The job has ended (`how`: e.g. "Slurm job 12 ended CANCELLED"): what finished is
   * collected, and every other execution gets an error saying whether it had started, so that
   * `--resume` runs it again.
   */
  end(how: string, onResult?: (r: BackendResult) => BackendResult): void {
    this.collect(onResult);
    const output = tail(existsSync(this.output) ? readFileSync(this.output, 'utf8') : '', 3);
    for (let i = 0; i < this.executions.length; i++) {
      const e = this.executions[i];
      if (!e) continue;
      if (existsSync(join(this.dir, `${i}.json`)) || existsSync(join(this.dir, `${i}.error`))) {
        // e.g. a helper that got the job's SIGTERM wrote its result; the script was killed before noting it
        this.settle(i, onResult ? onResult(this.finished(i, i % this.ranks)) : this.finished(i, i % this.ranks));
        continue;
      }
      const started = existsSync(join(this.dir, `${i}.started`));
      const what = started ? `${how} during this execution, without a measurement` : `${how} before this execution started`;
      this.settle(i, { ...errorResult(e.spec, output ? `${what}: ${output}` : what), host: this.host(i % this.ranks) ?? 'unknown' });
    }
  }

  /** Removes the job's files. */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private settle(i: number, result: BackendResult): void {
    const e = this.executions[i];
    if (!e) return;
    this.executions[i] = undefined;
    this.left--;
    e.resolve(result);
  }

  private host(rank: number): string | undefined {
    const path = join(this.dir, `host.${rank}`);
    return existsSync(path) ? readFileSync(path, 'utf8').trim() || undefined : undefined;
  }

  private finished(i: number, rank: number): BackendResult {
    const spec = this.executions[i]!.spec;
    const read = (ext: string) => {
      const path = join(this.dir, `${i}.${ext}`);
      return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    };
    const host = this.host(rank) ?? 'unknown';
    const missing = read('error');
    if (missing !== undefined) return { ...errorResult(spec, missing.trim()), host };
    const result = resultFromHelper(read('json') ?? '', spec);
    if (result) return { ...result, host };
    const status = read('done')?.trim();
    const why = tail(read('herr') ?? '', 3) || 'no result written';
    return { ...errorResult(spec, `measurement helper on ${host} failed (exit status ${status}): ${why}`), host };
  }
}
