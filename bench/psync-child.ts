// Benchmark child: a PsyncReplica alone in its own process (so its peak RSS and CPU are the
// tool's), from the start of the handshake until the RDB is on the target.
//   tsx bench/psync-child.ts <source-url> <target-url>
import { PsyncReplica } from '../src/engine/psync/index.js';
import { parseEndpointUrl } from '../src/redis/endpoint.js';
import { createLogger } from '../src/util/logger.js';
import { printResult } from './child-output.js';

const [sourceUrl, targetUrl] = process.argv.slice(2);
if (!sourceUrl || !targetUrl) throw new Error('usage: psync-child.ts <source-url> <target-url>');
const started = Date.now();
const cpu0 = process.cpuUsage();
const replica = new PsyncReplica({
  source: parseEndpointUrl(sourceUrl, 'source'),
  target: parseEndpointUrl(targetUrl, 'target'),
  mapping: { dbs: 'all' },
  logger: createLogger({ level: 'silent' }),
});
try {
  await replica.start();
  const loaded = await replica.rdbLoaded();
  const durationMs = Date.now() - started;
  await replica.stop();
  printResult({
    ok: true,
    keys: loaded.keys,
    durationMs,
    keysPerSecond: Math.round((loaded.keys * 1000) / Math.max(1, durationMs)),
    report: { ...loaded, cpuMs: cpuMsSince(cpu0) },
  });
} catch (err) {
  await replica.stop();
  printResult({
    ok: false,
    error: (err as Error).message,
    keys: 0,
    durationMs: Date.now() - started,
    keysPerSecond: 0,
  });
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return Math.round((d.user + d.system) / 1000);
}
