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
  readEndpointFile,
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

/**
 * The fixture (every key but the app's), compared by the independent per-node reader. Both sides
 * are read at once: a sequential read would age the second side's TTLs by the first one's time.
 */
async function fixtureDifferences(a: ComparedSide, b: ComparedSide): Promise<string[]> {
  const only = async (s: ComparedSide) =>
    new Map(
      [...(await snapshotSide(s))].filter(([k]) => !Buffer.from(k, 'hex').toString().startsWith('app:')),
    );
  const [sa, sb] = await Promise.all([only(a), only(b)]);
  return compareSnapshots(sa, sb, 0);
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
    'cluster (3 primaries) -> standalone',
    async () => [await startCluster({ primaries: 3, configLines: NOTIFY }), await startRedis()],
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
      if (isCluster(source)) {
        // The drain check names every source primary, with the connections still on it.
        const resumed = /"Resume writes" succeeded: .*connections left by source node: ([^;\n]*)/.exec(
          run.stdout,
        );
        assert.ok(resumed, run.stdout);
        assert.equal(resumed[1]!.split(', ').filter((n) => /^\S+:\d+ \d+/.test(n)).length, 3, resumed[1]);
        t.diagnostic(`connections left by source node: ${resumed[1]}`);
      }
      // The final check across topologies sets the app's writes after the repoint aside (recorded
      // on every target primary) and finds no other difference.
      const final = /"Final check and summary" succeeded: .*/.exec(run.stdout)?.[0] ?? '';
      assert.match(
        final,
        /identical: .*not counted as differences: \d+ keys? written by apps after the repoint/,
        run.stdout,
      );
      t.diagnostic(final);
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

describe('dump-restore migration from a cluster whose one primary refuses the write pause', () => {
  let control: RedisServer;
  let source: RedisCluster;
  let target: RedisCluster;
  let dir: string;
  before(async () => {
    control = await startRedis();
    [source, target] = await Promise.all([
      startCluster({ primaries: 3, configLines: NOTIFY }),
      startCluster({ primaries: 3 }),
    ]);
    await fill(source);
    dir = mkdtempSync(join(tmpdir(), 'mb-cluster-pause-'));
  });
  after(async () => {
    await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stops at the write pause: every pause lifted, nothing repointed, the source takes writes', async (t) => {
    // After the plan (which would otherwise pick a manual pause for a node refusing CLIENT PAUSE),
    // right before the cutover: one primary's user loses CLIENT PAUSE.
    const refusing = source.primaries[1]!.server;
    const refuse = `redis-cli -h ${refusing.host} -p ${refusing.port} ACL SETUSER default '-client|pause'`;
    const endpointFile = join(dir, 'endpoint');
    writeEndpointFile(endpointFile, source.url, 'cluster');
    const config = join(dir, 'config.yml');
    writeMigrateConfig(config, {
      source,
      target,
      control,
      hooks: {
        refuse: { command: refuse, at: 'before_cutover' },
        repoint: { command: repointHookCommand(endpointFile, 'cluster'), at: 'repoint' },
      },
    });
    const run = await runCli(scriptedMigrateArgs(config, 'dump-restore'));
    assert.notEqual(run.code, 0, run.stdout);
    assert.match(run.stdout, /"Pause source writes" failed/, run.stdout);
    t.diagnostic(/"Pause source writes" failed: .*/.exec(run.stdout)?.[0] ?? '');
    assert.match(run.stdout, new RegExp(`${refusing.host}:${refusing.port}`), 'the refusing node is named');
    assert.doesNotMatch(run.stdout, /\[\d+-repoint\] .* succeeded/);
    assert.equal(readEndpointFile(endpointFile), source.url, 'the app was not repointed');
    // No primary is left paused: a write on each is answered at once (a pause would hold it).
    for (const p of source.primaries) {
      const c = await p.server.client();
      let key = '';
      for (let i = 0; !key; i++) {
        if ((await source.nodeOfSlot(await source.keySlot(`after${i}`))).id === p.id) key = `after${i}`;
      }
      const reply = await Promise.race([
        c.set(key, '1'),
        new Promise((r) => setTimeout(() => r('held'), 3000)),
      ]);
      assert.equal(reply, 'OK', `a write on ${p.server.port} is not held by a pause`);
    }
  });
});
