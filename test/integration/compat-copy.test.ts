// The compatibility matrix for copy + verify: Redis 7.0 <-> Redis 8.0 <-> Valkey 8.1, both
// directions, on the adversarial dataset. The plan picks DUMP payloads where the target can read
// the source's RDB format and the type-by-type copy where it cannot (saying why); the copy
// carries every key, TTL, stream group and function library either way; the engine's verify and
// the independent comparison (test/harness/compare.ts) both find the servers equal.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServerName } from '../../scripts/redis-bin/servers.js';
import { copyKeys } from '../../src/engine/copy/index.js';
import { verify } from '../../src/engine/verify/index.js';
import { withDefaults } from '../../src/planner/defaults.js';
import { planMigration } from '../../src/planner/plan.js';
import { probeEndpoint } from '../../src/probe/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import {
  fillAdversarial,
  libraries,
  matrixUnavailable,
  PAIRS,
  RDB_OF,
  startServers,
} from './compat-support.js';

const missing = await matrixUnavailable();

describe('compatibility matrix: copy + verify', { skip: missing }, () => {
  let sources: Map<ServerName, RedisServer>;
  before(async () => {
    sources = await startServers(['redis-7.0', 'redis-8.0', 'valkey-8.1']);
    await Promise.all([...sources.values()].map(fillAdversarial));
  });
  after(async () => {
    await Promise.all([...(sources?.values() ?? [])].map((s) => s.stop()));
  });

  for (const pair of PAIRS) {
    test(`${pair.label}: ${pair.downgrade ? 'by-type copy' : 'DUMP/RESTORE'}, verified equal`, async () => {
      const source = sources.get(pair.from)!;
      const target = await startRedis({ server: pair.to });
      try {
        const src = parseEndpointUrl(source.url, 'src');
        const dst = parseEndpointUrl(target.url, 'dst');
        const [sp, tp] = await Promise.all([probeEndpoint(src), probeEndpoint(dst)]);
        assert.equal(sp.server.rdbVersion, RDB_OF[pair.from]);
        assert.equal(tp.server.rdbVersion, RDB_OF[pair.to]);
        const plan = planMigration(sp, tp, withDefaults({ strategy: 'dump-restore' }));
        assert.deepEqual(plan.blockers, []);
        assert.equal(plan.copyMode, pair.downgrade ? 'by-type' : 'dump');
        if (pair.downgrade) {
          assert.match(
            plan.copyModeReasons.join(),
            new RegExp(`RDB format ${RDB_OF[pair.to]} .* is older than the source's ${RDB_OF[pair.from]}`),
          );
        }

        const report = await copyKeys(src, dst, { dbs: 'all', onNonEmptyTarget: 'refuse', batchSize: 50 });
        assert.equal(report.keysFailed, 0);
        assert.equal(report.complete, true);
        assert.deepEqual(report.dbs, [0, 3, 15]);
        // A downgrade's every payload is refused, and each key goes type by type instead.
        assert.equal(report.keysByTypeFallback, pair.downgrade ? report.keysCopied : 0);
        assert.equal(report.functions?.libraries, 1);
        assert.equal(report.functions?.notCopied, undefined);

        const verdict = await verify(src, dst, { dbs: 'all', recheckDelayMs: 20 });
        assert.equal(verdict.identical, true, JSON.stringify(verdict.differences));
        assert.equal(verdict.keysChecked, report.keysCopied);
        assert.deepEqual(await compareServers(source, target), []);
        assert.deepEqual(await libraries(await target.client()), await libraries(await source.client()));
      } finally {
        await target.stop();
      }
    });
  }
});
