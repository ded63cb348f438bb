// The replication strategy when its source turns into someone else's replica after the sync (issue
// #10), with the app writing to the source: the next step fails saying so, make_writable and promote
// never run on it, and the target is not promoted.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { withDefaults } from '../../src/planner/defaults.js';
import { planMigration } from '../../src/planner/plan.js';
import { probeEndpoint } from '../../src/probe/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { UnrecoverableStepError } from '../../src/runbook/errors.js';
import { ExecutorRegistry } from '../../src/runbook/step-executor.js';
import type { ReplicationOptions as ReplicationExecutorOptions } from '../../src/strategies/replication/options.js';
import { startApp, writeEndpointFile } from '../harness/app/index.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { registerStrategy } from '../harness/step-executors.js';
import { RunbookHarness } from './replication-support.js';

const options: ReplicationExecutorOptions = {
  pollIntervalMs: 50,
  linkTimeoutMs: 5000,
  lagTimeoutMs: 3000,
  drainPollMs: 50,
  drainTimeoutMs: 5000,
  verify: { recheckDelayMs: 20 },
};

describe('replication: the source changes role after the sync', () => {
  let source: RedisServer;
  let target: RedisServer;
  let other: RedisServer;
  let dir: string;
  before(async () => {
    [source, target, other] = await Promise.all([
      startRedis({ configLines: ['repl-diskless-sync-delay 0'] }),
      startRedis(),
      startRedis({ configLines: ['repl-diskless-sync-delay 0'] }),
    ]);
    const s = await source.client();
    const p = s.pipeline();
    for (let i = 0; i < 500; i++) p.set(`k:${i}`, `v${i}`);
    await p.exec();
    await (await other.client()).set('other', 'x');
    dir = mkdtempSync(join(tmpdir(), 'mb-faults-repl-'));
  });
  after(async () => {
    await (await source.client()).call('REPLICAOF', 'NO', 'ONE').catch(() => undefined);
    await (await target.client()).call('REPLICAOF', 'NO', 'ONE').catch(() => undefined);
    await Promise.all([source.stop(), target.stop(), other.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('verify and promote refuse it with the reason; the target is never promoted', async () => {
    const src = parseEndpointUrl(source.url, 'old');
    const dst = parseEndpointUrl(target.url, 'new');
    const [sp, tp] = await Promise.all([probeEndpoint(src), probeEndpoint(dst)]);
    const plan = planMigration(sp, tp, withDefaults({ strategy: 'replication' }));
    assert.equal(plan.strategy, 'replication', JSON.stringify(plan.blockers));
    const h = new RunbookHarness(
      plan,
      { source: src, target: dst },
      registerStrategy(new ExecutorRegistry(), 'replication', options),
    );
    const endpointFile = join(dir, 'app.url');
    writeEndpointFile(endpointFile, source.url);
    const app = await startApp({ endpointFile, rate: 200, dir });
    try {
      const started = await h.run('start_replication');
      assert.equal(started.error, undefined, String(started.error));
      const synced = await h.run('wait_sync');
      assert.equal(synced.error, undefined, String(synced.error));

      await (await source.client()).call('REPLICAOF', '127.0.0.1', String(other.port));
      const verified = await h.run('verify');
      assert.ok(verified.error instanceof UnrecoverableStepError, String(verified.error ?? 'verify passed'));
      assert.match(
        verified.error.message,
        new RegExp(`the source old .* became a replica of 127\\.0\\.0\\.1:${other.port} before "`),
      );
      assert.match(verified.error.message, /abort the migration to detach it/);
      const promoted = await h.run('promote');
      assert.ok(promoted.error instanceof UnrecoverableStepError, String(promoted.error ?? 'promoted'));
      assert.match(promoted.error.message, /became a replica of/);
      // Still a replica of the source: nothing promoted it, nothing made it writable.
      assert.match(await (await target.client()).info('replication'), /role:slave/);
    } finally {
      await app.stop();
    }
  });
});
