// Whole dump-restore migrations (`migrate` on the command line, every gate approved) with a Redis
// Cluster on either side while an app writes through a cluster-aware client and is moved by a
// command repoint hook: bulk copy, live sync on every source primary, the write pause on every
// primary, the repoint, the resume and the final check. Judged independently: every write the app
// had acknowledged is on the target (checkAcknowledged, reading the target by slot) and the
// fixture is identical (compare-cluster.ts, plain per-node reads).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  checkAcknowledged,
  type EndpointKind,
  repointHookCommand,
  startApp,
  writeEndpointFile,
} from '../harness/app/index.js';
import { runCli } from '../harness/cli.js';
import { compareSnapshots } from '../harness/compare.js';
import { type ComparedSide, snapshotSide } from '../harness/compare-cluster.js';
import { scriptedMigrateArgs, writeMigrateConfig } from '../harness/migrate-run.js';
import { type RedisCluster, startCluster } from '../harness/redis-cluster.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

const FIXTURE_KEYS = 1500;
const NOTIFY = ['notify-keyspace-events KEA'];

type Side = RedisCluster | RedisServer;
const isCluster = (s: Side): s is RedisCluster => 'primaries' in s;
const kindOf = (s: Side): EndpointKind => (isCluster(s) ? 'cluster' : 'standalone');

async function fill(side: Side): Promise<void> {
  const c = isCluster(side) ? await side.client() : await side.client();
  for (let i = 0; i < FIXTURE_KEYS; i++) await c.set(`fx:${i}`, `value-${i}`);
  for (let i = 0; i < 40; i++) {
    await c.hset(`{fx:user${i % 8}}:h:${i}`, { a: String(i), b: 'x' });
    await c.rpush(`fx:l:${i}`, 'a', 'b', 'c');
    await c.set(`fx:ttl:${i}`, 'v', 'PX', 600_000);
  }
  // The drain check waits for clients to leave the source: this one is done.
  c.disconnect();
}

/** The fixture (every key but the app's), compared by the independent per-node reader. */
async function fixtureDifferences(a: ComparedSide, b: ComparedSide): Promise<string[]> {
  const only = async (s: ComparedSide) =>
    new Map(
      [...(await snapshotSide(s))].filter(([k]) => !Buffer.from(k, 'hex').toString().startsWith('app:')),
    );
  return compareSnapshots(await only(a), await only(b), 0);
}

for (const [name, start] of [
  [
    'cluster (3 primaries) -> cluster (3 primaries)',
    async () => [
      await startCluster({ primaries: 3, configLines: NOTIFY }),
      await startCluster({ primaries: 3 }),
    ],
  ],
  [
    'standalone -> cluster (3 primaries)',
    async () => [await startRedis({ configLines: NOTIFY }), await startCluster({ primaries: 3 })],
  ],
] as const) {
  describe(`dump-restore migration ${name} under a writing app`, () => {
    let control: RedisServer;
    let source: Side;
    let target: Side;
    let dir: string;
    before(async () => {
      control = await startRedis();
      [source, target] = (await start()) as [Side, Side];
      await fill(source);
      dir = mkdtempSync(join(tmpdir(), 'mb-cluster-migrate-'));
    });
    after(async () => {
      await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('succeeds through every gate; 0 acknowledged writes lost; the fixture identical', async (t) => {
      const endpointFile = join(dir, 'endpoint');
      writeEndpointFile(endpointFile, source.url, kindOf(source));
      const config = join(dir, 'config.yml');
      writeMigrateConfig(config, {
        source,
        target,
        control,
        hooks: { repoint: { command: repointHookCommand(endpointFile, kindOf(target)), at: 'repoint' } },
      });
      const app = await startApp({ endpointFile, dir, rate: 500 });
      const run = await runCli(scriptedMigrateArgs(config, 'dump-restore'));
      const report = await app.stop();
      const out = run.stdout + run.stderr;
      assert.equal(run.code, 0, out);
      assert.match(run.stdout, /migration m[0-9a-z]+ succeeded/);
      const pause = /source writes were paused for (\d+) ms \(measured on the source\)/.exec(run.stdout);
      assert.ok(pause, run.stdout);
      t.diagnostic(`engine-measured write pause ${pause[1]} ms`);
      const check = await checkAcknowledged(report, target.url, { cluster: isCluster(target) });
      assert.equal(check.ok, true, JSON.stringify(check.missing.slice(0, 5)));
      assert.ok(check.checked > 0);
      const targetAt = new URL(target.url).host;
      assert.ok((report.byServer[targetAt] ?? 0) > 0, `the app moved to the target (${targetAt})`);
      assert.deepEqual(await fixtureDifferences(source, target), []);
      t.diagnostic(
        `app: ${report.acknowledged} writes acknowledged, ${report.errors} errors, longest wait ${report.maxWaitMs} ms, ` +
          `by server ${JSON.stringify(report.byServer)}`,
      );
    });
  });
}
