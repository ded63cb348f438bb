// The compatibility matrix for replication: Redis 7.0 <-> Redis 8.0 <-> Valkey 8.1, both ways, on
// the adversarial dataset. Where the target can load the source's RDB format the plan picks
// replication and its steps (start, wait for the sync, verify) leave the target equal to the
// source by the independent comparison; where it cannot, the plan refuses replication with the
// reason, and a replica started by hand shows why: it never loads the source's data.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServerName } from '../../scripts/redis-bin/servers.js';
import { withDefaults } from '../../src/planner/defaults.js';
import { planMigration } from '../../src/planner/plan.js';
import { probeEndpoint } from '../../src/probe/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { ExecutorRegistry } from '../../src/runbook/step-executor.js';
import type { ReplicationOptions as ReplicationExecutorOptions } from '../../src/strategies/replication/options.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { registerStrategy } from '../harness/step-executors.js';
import { fillAdversarial, libraries, matrixUnavailable, PAIRS, RDB_OF } from './compat-support.js';
import { RunbookHarness } from './replication-support.js';

const options: ReplicationExecutorOptions = {
  pollIntervalMs: 50,
  linkTimeoutMs: 10_000,
  lagTimeoutMs: 5000,
  drainPollMs: 50,
  drainTimeoutMs: 3000,
  verify: { recheckDelayMs: 20 },
};

const missing = await matrixUnavailable();

describe('compatibility matrix: replication', { skip: missing }, () => {
  let sources: Map<ServerName, RedisServer>;
  before(async () => {
    const names = ['redis-7.0', 'redis-8.0', 'valkey-8.1'] as const;
    const started = await Promise.all(
      names.map((server) => startRedis({ server, configLines: ['repl-diskless-sync-delay 0'] })),
    );
    sources = new Map(names.map((n, i) => [n, started[i]!]));
    await Promise.all(started.map(fillAdversarial));
  });
  after(async () => {
    await Promise.all([...(sources?.values() ?? [])].map((s) => s.stop()));
  });

  async function planFor(source: RedisServer, target: RedisServer) {
    const src = parseEndpointUrl(source.url, 'old');
    const dst = parseEndpointUrl(target.url, 'new');
    const [sp, tp] = await Promise.all([probeEndpoint(src), probeEndpoint(dst)]);
    return { src, dst, plan: planMigration(sp, tp, withDefaults({ strategy: 'replication' })) };
  }

  for (const pair of PAIRS.filter((p) => !p.downgrade)) {
    test(`${pair.label}: replication syncs every db, key, TTL and library`, async () => {
      const source = sources.get(pair.from)!;
      const target = await startRedis({ server: pair.to });
      try {
        const { src, dst, plan } = await planFor(source, target);
        assert.equal(plan.strategy, 'replication', JSON.stringify(plan.blockers));
        const h = new RunbookHarness(
          plan,
          { source: src, target: dst },
          registerStrategy(new ExecutorRegistry(), 'replication', options),
        );
        for (const step of ['start_replication', 'wait_sync', 'verify']) {
          const run = await h.run(step);
          assert.equal(run.error, undefined, `${step}: ${String(run.error)}`);
        }
        assert.deepEqual(await compareServers(source, target), []);
        const tc = await target.client();
        assert.deepEqual(await libraries(tc), await libraries(await source.client()));
        assert.equal(await tc.dbsize(), await (await source.client()).dbsize());
      } finally {
        await (await target.client()).call('REPLICAOF', 'NO', 'ONE').catch(() => undefined);
        await target.stop();
      }
    });
  }

  for (const pair of PAIRS.filter((p) => p.downgrade)) {
    test(`${pair.label}: replication refused (RDB ${RDB_OF[pair.from]} into ${RDB_OF[pair.to]}), and a replica indeed cannot load it`, async () => {
      const source = sources.get(pair.from)!;
      const target = await startRedis({ server: pair.to });
      try {
        const { plan } = await planFor(source, target);
        assert.equal(plan.strategy, null);
        assert.deepEqual(
          plan.blockers.map((b) => b.code),
          ['strategy-not-viable'],
        );
        const older =
          pair.from.split('-')[0] === pair.to.split('-')[0]
            ? /target runs redis \S+, older than the source's/
            : new RegExp(`RDB format ${RDB_OF[pair.to]} is older than the source's ${RDB_OF[pair.from]}`);
        assert.match(plan.blockers[0]!.message, older);
        assert.match(plan.blockers[0]!.message, /a replica cannot load a newer/);

        // By hand: the full sync is sent and refused; the target ends with none of the data.
        const sc = await source.client();
        const before = Number(/sync_full:(\d+)/.exec(await sc.info('stats'))?.[1]);
        const tc = await target.client();
        await tc.call('REPLICAOF', source.host, String(source.port));
        const deadline = Date.now() + 10_000;
        while (Number(/sync_full:(\d+)/.exec(await sc.info('stats'))?.[1]) === before) {
          assert.ok(Date.now() < deadline, 'the replica never asked for a full sync');
          await new Promise((r) => setTimeout(r, 50));
        }
        await new Promise((r) => setTimeout(r, 1500));
        assert.match(await tc.info('replication'), /master_link_status:down/);
        assert.equal(await tc.dbsize(), 0);
      } finally {
        await (await target.client()).call('REPLICAOF', 'NO', 'ONE').catch(() => undefined);
        await target.stop();
      }
    });
  }
});
