// What the web server tests share: reading a run's records, a free port, the servers a project
// left running, and the checks every measured load must pass whatever the server and client.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export function records(dir: string, run = 'last'): any[] {
  const text = readFileSync(join(dir, 'results', run, 'records.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Processes of `program` started from this project (none may outlive a command). */
export function serversLeft(dir: string, program: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
  return ps.split('\n').filter((l) => l.includes(program) && l.includes(dir));
}

/**
 * Every load succeeded and has the fields of a web server load: throughput, transfer rate,
 * ordered latency percentiles, the server's CPU and memory, the client that measured it.
 * ab's stdout table rounds to whole ms, but its CSV (used here) has microseconds.
 */
export function checkLoads(recs: any[], client: string): void {
  for (const rec of recs) {
    assert.equal(rec.status, 'ok', JSON.stringify(rec));
    const f = rec.fields;
    assert.equal(f.client, client);
    assert.equal(f.threads, client === 'ab' ? 1 : Math.min(f.connections, f.threads));
    assert.ok(f.throughput > 500, `throughput ${f.throughput}`);
    assert.ok(f.requests > 500 && f.elapsed > 0.5 && f.elapsed < 5, JSON.stringify(f));
    assert.ok(f.transferRate > f.throughput * 64, `transfer rate ${f.transferRate}`);
    assert.ok(f.bytesRead > f.requests * 64, `bytes read ${f.bytesRead}`);
    assert.ok(
      f.latencyP50 > 0 && f.latencyP50 <= f.latencyP75 && f.latencyP75 <= f.latencyP90 && f.latencyP90 <= f.latencyP99,
      JSON.stringify(f),
    );
    assert.ok(f.latencyP99 <= f.latencyMax, JSON.stringify(f));
    assert.ok(f.latencyAvg > 0 && f.latencyAvg < 1000, `latency ${f.latencyAvg}`);
    assert.ok(f.latencyStdev >= 0);
    assert.equal(f.badResponses, 0);
    assert.ok(f.serverCpu > 5 && f.serverCpu <= 100 * f.workers + 10, `server CPU ${f.serverCpu}`);
    assert.ok(f.serverUtilization > 0, `utilization ${f.serverUtilization}`);
    assert.ok(f.serverMaxRss > 500, `server RSS ${f.serverMaxRss}`);
    assert.equal(f.filesize, 64);
  }
}

/** A project with nginx 1.22.1 and two instances, gcc -O1 and clang-22 -O1. */
export const NGINX_SETUP = String.raw`
import { Setup, Gcc, Clang, LLVM, Nginx } from 'instrumentation-infra';

const setup = new Setup(import.meta.url);
setup.addTarget(new Nginx({ version: '1.22.1' }));
setup.addInstance(new Gcc({ optlevel: 1 }));
setup.addInstance(new Clang(LLVM.installed({ version: '22' }), { optlevel: 1 }));
await setup.main();
`;
