// MIGRATE (server-side copy) when the target is SIGKILLed mid-run and restarted empty on the same
// port, with the app writing to the source (db 1) (issue #10): the run starts over and reports
// complete only with every fixture key on the target, compared by test/harness/compare.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { migrateKeys } from '../../src/strategies/migrate/index.js';
import { startApp, writeEndpointFile } from '../harness/app/index.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { restartEmpty, seed } from './faults-support.js';

describe('MIGRATE: the target restarts mid-run', () => {
  let dir: string;
  const servers: RedisServer[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mb-faults-migrate-keys-'));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('starts over and reports complete only with every key there', async () => {
    const source = await startRedis();
    let target = await startRedis();
    servers.push(source, target);
    await seed(source, 30_000);
    const endpointFile = join(dir, 'app.url');
    writeEndpointFile(endpointFile, `${source.url}/1`);
    const app = await startApp({ endpointFile, rate: 300, dir });
    let restarting: Promise<RedisServer> | undefined;
    let report: Awaited<ReturnType<typeof migrateKeys>>;
    try {
      report = await migrateKeys(parseEndpointUrl(source.url, 'old'), parseEndpointUrl(target.url, 'new'), {
        dbs: [0],
        onNonEmptyTarget: 'refuse',
        batchKeys: 100,
        onProgress: (p) => {
          if (!restarting && p.keysCopied >= 2000) restarting = restartEmpty(target);
        },
      });
    } finally {
      await app.stop();
    }
    assert.ok(restarting, 'the target was restarted during the run');
    target = await restarting;
    servers.push(target);
    assert.equal(report.complete, true);
    assert.equal(report.restarts?.length, 1, JSON.stringify(report.restarts));
    assert.match(report.restarts![0]!, /the target new .* restarted \(run_id/);
    assert.deepEqual((await compareServers(source, target, { dbs: [0] })).slice(0, 5), []);
  });
});
