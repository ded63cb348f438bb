// Shared by the fault tests (faults-*.test.ts): a seed fixture checked with plain reads, a server
// brought back empty where it was, and the app's writes acknowledged before a moment.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { type AppReport, readAckLog } from '../harness/app/index.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

/** `seed:<i>` = `v<i>` for i < n, in db 0. */
export async function seed(server: RedisServer, n: number): Promise<void> {
  const c = await server.client();
  for (let i = 0; i < n; i += 5000) {
    const p = c.pipeline();
    for (let j = i; j < Math.min(n, i + 5000); j++) p.set(`seed:${j}`, `v${j}`);
    await p.exec();
  }
}

/** Every seed key is on `server` with the source's value (plain MGET, nothing from the engine). */
export async function assertSeedIntact(server: RedisServer, n: number): Promise<void> {
  const c = await server.client();
  const wrong: string[] = [];
  for (let i = 0; i < n; i += 5000) {
    const keys = Array.from({ length: Math.min(5000, n - i) }, (_, j) => `seed:${i + j}`);
    const values = await c.mget(keys);
    values.forEach((v, j) => {
      if (v !== `v${i + j}`) wrong.push(`seed:${i + j}=${v}`);
    });
  }
  assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} seed keys missing or changed on ${server.port}`);
}

/** SIGKILLs a server and starts an empty one on the same port (the caller stops the new one). */
export async function restartEmpty(server: RedisServer, configLines: string[] = []): Promise<RedisServer> {
  const port = server.port;
  server.kill();
  await server.stop();
  for (let i = 0; ; i++) {
    try {
      return await startRedis({ port, configLines });
    } catch (err) {
      if (i >= 20) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * The report restricted to writes acknowledged before `at` (epoch ms): a change made just before
 * the source stopped being the one migrated may still have been pending, and cannot be read from
 * it any more.
 */
export async function ackedBefore(report: AppReport, at: number): Promise<AppReport> {
  const lines = (await readAckLog(report.logFile)).filter((l) => l.at < at);
  const logFile = `${report.logFile}.before`;
  writeFileSync(logFile, lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  return { ...report, logFile, acknowledged: lines.length };
}
