import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Measurement } from '../src/core/runner.js';
import type { MeasureSpec } from '../src/exec/measure.js';
import type { BackendResult, ExecutionBackend } from '../src/parallel/pool.js';

/** What the fake backend answers for one execution (everything optional). */
export interface CannedResult {
  status?: BackendResult['status'];
  reason?: string;
  measurement?: Partial<Measurement> | null;
  stdout?: string;
  stderr?: string;
  /** Milliseconds the execution "takes". */
  delayMs?: number;
}

export interface FakeBackend extends ExecutionBackend {
  /** Labels (`instance/benchmark.iteration`, from the log path) in the order executions started. */
  readonly started: string[];
  readonly specs: MeasureSpec[];
  /** Highest number of executions that ran at once, in all and per benchmark. */
  readonly peak: { all: number; byBenchmark: Map<string, number> };
  closed: boolean;
}

export const FAKE_MEASUREMENT: Measurement = {
  runtime: 0.5,
  utime: 0.25,
  stime: 0.125,
  maxrss: 1000,
  minflt: 1,
  majflt: 0,
  nvcsw: 2,
  nivcsw: 3,
};

/**
 * An ExecutionBackend that runs nothing: it writes the canned output to the log paths and
 * answers with a measurement, so scheduling and recording are tested without processes.
 */
export function createFakeBackend(
  options: { capacity?: number; answer?: (label: string, spec: MeasureSpec) => CannedResult } = {},
): FakeBackend {
  const running = new Map<string, number>();
  let runningAll = 0;
  const backend: FakeBackend = {
    name: 'fake',
    capacity: options.capacity ?? 1,
    started: [],
    specs: [],
    peak: { all: 0, byBenchmark: new Map() },
    closed: false,
    async execute(spec) {
      const label = labelOf(spec.stdoutPath);
      const benchmark = label.slice(0, label.lastIndexOf('.'));
      backend.started.push(label);
      backend.specs.push(spec);
      running.set(benchmark, (running.get(benchmark) ?? 0) + 1);
      runningAll++;
      backend.peak.all = Math.max(backend.peak.all, runningAll);
      backend.peak.byBenchmark.set(benchmark, Math.max(backend.peak.byBenchmark.get(benchmark) ?? 0, running.get(benchmark)!));
      const canned = options.answer?.(label, spec) ?? {};
      await new Promise((r) => setTimeout(r, canned.delayMs ?? 0));
      running.set(benchmark, running.get(benchmark)! - 1);
      runningAll--;
      mkdirSync(dirname(spec.stdoutPath), { recursive: true });
      writeFileSync(spec.stdoutPath, canned.stdout ?? '');
      writeFileSync(spec.stderrPath, canned.stderr ?? '');
      const status = canned.status ?? 'ok';
      const measurement = canned.measurement === null ? null : ({ ...FAKE_MEASUREMENT, ...canned.measurement } as Measurement);
      const result: BackendResult = {
        status,
        exitCode: status === 'ok' ? 0 : 1,
        signal: null,
        measurement,
        host: 'fake',
        stdoutPath: spec.stdoutPath,
        stderrPath: spec.stderrPath,
        cwd: spec.cwd,
      };
      if (canned.reason !== undefined) result.reason = canned.reason;
      return result;
    },
    async close() {
      backend.closed = true;
    },
  };
  return backend;
}

/** `logs/<target>/<instance>/<benchmark>.<iteration>.stdout` → `instance/benchmark.iteration`. */
function labelOf(stdoutPath: string): string {
  return `${basename(dirname(stdoutPath))}/${basename(stdoutPath, '.stdout')}`;
}
