// The replication strategy when things go wrong: a sync that restarts forever (reported with the
// settings to raise), a target that cannot reach the source (refused with what the target says),
// and an abort at each stage (the target ends up untouched or promoted, settings restored).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { withDefaults } from '../../src/planner/defaults.js';
import { planMigration } from '../../src/planner/plan.js';
import { probeEndpoint } from '../../src/probe/index.js';
import { type Endpoint, parseEndpointUrl } from '../../src/redis/endpoint.js';
import { StepAbortedError, UnrecoverableStepError } from '../../src/runbook/errors.js';
import { ExecutorRegistry } from '../../src/runbook/step-executor.js';
import { cleanupAfterAbort } from '../../src/strategies/replication/index.js';
import type { ReplicationOptions as ReplicationExecutorOptions } from '../../src/strategies/replication/options.js';
import { freePort, type RedisServer, startRedis } from '../harness/redis-server.js';
import { registerStrategy } from '../harness/step-executors.js';
import { RunbookHarness } from './replication-support.js';

const SRC_PW = 'failures-src-pw-9876';
let source: RedisServer;
let loopSource: RedisServer;
let target: RedisServer;
let targetClient: Redis;

const base: ReplicationExecutorOptions = {
  pollIntervalMs: 50,
  linkTimeoutMs: 5000,
  lagTimeoutMs: 3000,
  drainPollMs: 50,
  drainTimeoutMs: 5000,
  verify: { recheckDelayMs: 20 },
};

before(async () => {
  [source, loopSource, target] = await Promise.all([
    startRedis({
      password: SRC_PW,
      configLines: [
        'repl-diskless-sync-delay 0',
        'user limited on >limited-pw-1111 ~* &* +@all -psync -sync',
      ],
    }),
    // A replica output buffer far too small for the write rate during a sync: the sync loops.
    startRedis({
      configLines: ['client-output-buffer-limit replica 64kb 32kb 1', 'repl-diskless-sync-delay 0'],
    }),
    startRedis(),
  ]);
  const s = await source.client();
  const p = s.pipeline();
  for (let i = 0; i < 300; i++) p.set(`k:${i}`, `v${i}`);
  for (let i = 0; i < 20; i++) p.set(`t:${i}`, 'x', 'EX', 1000);
  await p.exec();
  s.disconnect();
  const l = await loopSource.client();
  const big = 'x'.repeat(4096);
  const lp = l.pipeline();
  for (let i = 0; i < 3000; i++) lp.set(`big:${i}`, big);
  await lp.exec();
  l.disconnect();
  targetClient = await target.client();
});
after(async () => {
  await Promise.all([source.stop(), loopSource.stop(), target.stop()]);
});

const sourceEndpoint = () => parseEndpointUrl(source.url, 'old');
const targetEndpoint = () => parseEndpointUrl(target.url, 'new');

/** A fresh plan against the target as it is now (flush allowed: earlier tests leave keys behind). */
async function harness(src: Endpoint, options: ReplicationExecutorOptions = base): Promise<RunbookHarness> {
  const dst = targetEndpoint();
  const [sp, tp] = await Promise.all([probeEndpoint(src), probeEndpoint(dst)]);
  const plan = planMigration(sp, tp, withDefaults({ strategy: 'replication', onNonEmptyTarget: 'flush' }));
  assert.equal(plan.strategy, 'replication', JSON.stringify(plan.blockers));
  const registry = registerStrategy(new ExecutorRegistry(), 'replication', options);
  return new RunbookHarness(plan, { source: src, target: dst }, registry);
}

async function targetConfig(name: string): Promise<string> {
  return ((await targetClient.call('CONFIG', 'GET', name)) as string[])[1]!;
}

async function assertDetachedAndRestored(stage = ''): Promise<void> {
  assert.match((await targetClient.info('replication')) as string, /role:master/, stage);
  assert.equal(await targetConfig('masterauth'), '', `${stage} masterauth restored`);
  assert.equal(await targetConfig('masteruser'), '', `${stage} masteruser restored`);
  assert.equal(await targetConfig('replica-read-only'), 'yes', `${stage} replica-read-only restored`);
}

/** A writer that keeps the loop source busy while a sync runs. */
function writeLoad(server: RedisServer): { stop: () => Promise<void> } {
  let stopped = false;
  const done = (async () => {
    const c = await server.client();
    const value = 'w'.repeat(4096);
    let n = 0;
    while (!stopped) {
      const p = c.pipeline();
      for (let i = 0; i < 50; i++) p.set(`w:${n++ % 1000}`, value);
      await p.exec();
      await new Promise((r) => setTimeout(r, 2));
    }
    c.disconnect();
  })();
  return {
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

describe('replication failures', () => {
  it('detects a full sync that keeps restarting and names the settings to raise', async () => {
    const h = await harness(parseEndpointUrl(loopSource.url, 'busy'));
    const load = writeLoad(loopSource);
    try {
      const start = await h.run('start_replication');
      assert.ifError(start.error);
      const sync = await h.run('wait_sync');
      assert.ifError(sync.error);
      assert.equal(sync.outcome!.verdict, 'failed');
      const summary = sync.outcome!.summary;
      if (process.env.SHOW) console.log(summary);
      assert.match(summary, /keeps restarting/);
      assert.match(summary, /client-output-buffer-limit replica \(now "64kb 32kb 1"\)/);
      assert.match(summary, /repl-backlog-size \(now 1mb\)/);
      const loop = sync.outcome!.result!.loop as { fullSyncs: number; settings: Record<string, unknown> };
      assert.ok(loop.fullSyncs >= 3);
      assert.ok(h.events.some((e) => e.message.includes('replication loop detected')));
    } finally {
      await load.stop();
    }
    // The loop was stopped: the source is not forked again and again.
    assert.match((await targetClient.info('replication')) as string, /role:master/);
    assert.equal(await targetConfig('replica-read-only'), 'yes');
  });

  it('refuses with what the target reports when it cannot reach the source', async () => {
    const closed = await freePort();
    await targetClient.flushall();
    await targetClient.set('keep-me', '1');
    const h = await harness(sourceEndpoint(), {
      ...base,
      linkTimeoutMs: 1200,
      replicaOfAddress: () => ({ host: '127.0.0.1', port: closed }),
    });
    const r = await h.run('start_replication');
    assert.ok(r.error instanceof UnrecoverableStepError, String(r.error));
    assert.match(
      r.error.message,
      new RegExp(`cannot replicate from the source .* at 127\\.0\\.0\\.1:${closed}`),
    );
    assert.match(r.error.message, /master_link_status:down/);
    assert.match(r.error.message, /the link was never up/);
    if (process.env.SHOW) console.log(r.error.message);
    assert.ok(!r.error.message.includes(SRC_PW), 'no password in the message');
    await assertDetachedAndRestored();
    assert.equal(await targetClient.get('keep-me'), '1', 'the target kept its data');
    await targetClient.flushall();
  });

  it('says when the source refuses the replica user (ACL LOG)', async () => {
    // The planner refuses such a user; here it loses PSYNC after the plan was made.
    const planned = await harness(sourceEndpoint(), { ...base, linkTimeoutMs: 1500 });
    const h = new RunbookHarness(
      planned.migration.plan,
      {
        source: parseEndpointUrl(source.urlFor('limited', 'limited-pw-1111'), 'old'),
        target: targetEndpoint(),
      },
      planned.registry,
    );
    const r = await h.run('start_replication');
    assert.ok(r.error instanceof UnrecoverableStepError, String(r.error));
    assert.match(r.error.message, /user "limited" may not run psync/);
    if (process.env.SHOW) console.log(r.error.message);
    await assertDetachedAndRestored();
  });

  it('an abort while start waits for the link detaches the target and restores it', async () => {
    const closed = await freePort();
    const h = await harness(sourceEndpoint(), {
      ...base,
      replicaOfAddress: () => ({ host: '127.0.0.1', port: closed }),
    });
    const r = await h.run('start_replication', { abortWhen: (p) => p.phase === 'connecting' });
    assert.ok(r.error instanceof StepAbortedError, String(r.error));
    assert.match(r.error.state, /restored masterauth/);
    await assertDetachedAndRestored();
  });

  it('an abort during wait_sync leaves the target promoted with its settings restored', async () => {
    const h = await harness(parseEndpointUrl(loopSource.url, 'busy'), { ...base, maxFullSyncs: 1_000_000 });
    const load = writeLoad(loopSource);
    try {
      assert.ifError((await h.run('start_replication')).error);
      const r = await h.run('wait_sync', { abortAfterMs: 400 });
      assert.ok(r.error instanceof StepAbortedError, String(r.error));
      assert.match(r.error.state, /detached from the source/);
    } finally {
      await load.stop();
    }
    await assertDetachedAndRestored();
  });

  it('an abort during verify or make_writable, or between steps, detaches and restores', async () => {
    for (const stage of ['verify', 'make_writable', 'between'] as const) {
      const h = await harness(sourceEndpoint());
      assert.ifError((await h.run('start_replication')).error);
      assert.ifError((await h.run('wait_sync')).error);
      if (stage === 'verify') {
        const r = await h.run('verify', { abortWhen: (p) => p.phase === 'lag' });
        assert.ok(r.error instanceof StepAbortedError, `${stage}: ${String(r.error)}`);
      } else if (stage === 'make_writable') {
        const r = await h.run('make_writable', { abortAfterMs: 0 });
        assert.ok(r.error instanceof StepAbortedError, `${stage}: ${String(r.error)}`);
      } else {
        assert.ifError((await h.run('make_writable')).error);
        assert.equal(await targetConfig('replica-read-only'), 'no');
        const said = await cleanupAfterAbort(h.migration, { target: targetEndpoint() });
        assert.match(said, /detached from the source/);
      }
      await assertDetachedAndRestored(stage);
      assert.equal(await targetClient.dbsize(), 320, `${stage}: the target holds the synced data`);
    }
  });

  it('a drain check waits for apps, and an abort there promotes the target', async () => {
    const h = await harness(sourceEndpoint(), { ...base, drainTimeoutMs: 300 });
    assert.ifError((await h.run('start_replication')).error);
    assert.ifError((await h.run('wait_sync')).error);
    const app = await source.client(0, { connectionName: 'billing-worker' });
    try {
      // Past the bound: a person may approve going on; the result lists who was still there.
      const bounded = await h.run('drain_check');
      assert.ok(bounded.outcome?.awaitConfirmation, String(bounded.error));
      assert.match(bounded.outcome.awaitConfirmation, /billing-worker/);
      const approved = await h.run('drain_check', { confirmedBy: 'UBUDDY' });
      assert.equal(approved.outcome?.verdict, 'warning');
      const still = approved.outcome!.result!.clientsStillConnected as { name: string }[];
      assert.ok(still.some((c) => c.name === 'billing-worker'));
      h.step('drain_check').confirmedBy = undefined;

      const aborted = await h.run('drain_check', { abortAfterMs: 150 });
      assert.ok(aborted.error instanceof StepAbortedError, String(aborted.error));
    } finally {
      app.disconnect();
    }
    await assertDetachedAndRestored();
  });

  it('a shutdown mid-step leaves the link alone for the next worker', async () => {
    const h = await harness(parseEndpointUrl(loopSource.url, 'busy'), { ...base, maxFullSyncs: 1_000_000 });
    const load = writeLoad(loopSource);
    try {
      assert.ifError((await h.run('start_replication')).error);
      const r = await h.run('wait_sync', { shutdownAfterMs: 200 });
      assert.ok(r.error, 'the step stopped');
      assert.match((await targetClient.info('replication')) as string, /role:slave/);
      assert.equal(
        await cleanupAfterAbort(h.migration, { target: targetEndpoint() }).then((s) => /detached/.test(s)),
        true,
      );
    } finally {
      await load.stop();
    }
    await assertDetachedAndRestored();
  });
});
