// An abort that arrives between steps of a replication migration (no step running to clean up)
// must still leave the target untouched or promoted, never replicating: the worker runtime
// detaches it once, whichever process receives the abort.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildExecutorRegistry } from '../../src/jobs/executors.js';
import { openRuntime, startWorkers } from '../../src/jobs/runtime.js';
import { planMigration } from '../../src/planner/plan.js';
import { probeEndpoint } from '../../src/probe/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import type { AuditEvent } from '../../src/runbook/events.js';
import { createLogger } from '../../src/util/logger.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

let source: RedisServer;
let target: RedisServer;
let control: RedisServer;
before(async () => {
  [source, target, control] = await Promise.all([
    startRedis({ password: 'abort-src-pw' }),
    startRedis(),
    startRedis(),
  ]);
});
after(async () => {
  await Promise.all([source.stop(), target.stop(), control.stop()]);
});

async function until<T>(what: string, get: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('abort while a gate waits detaches a replicating target and restores its settings', async () => {
  const src = parseEndpointUrl(source.url, 'src');
  const dst = parseEndpointUrl(target.url, 'dst');
  const s = await source.client();
  for (let i = 0; i < 200; i++) await s.set(`k${i}`, `v${i}`);
  const plan = planMigration(await probeEndpoint(src), await probeEndpoint(dst), {
    strategy: 'replication',
    onNonEmptyTarget: 'refuse',
    dbs: 'all',
    byType: false,
    bigKeyThresholdBytes: 64 * 1024 * 1024,
    estimatedKeysPerSecond: 100_000,
  });
  assert.equal(plan.strategy, 'replication');
  const rt = await openRuntime({
    control: parseEndpointUrl(control.url, 'control'),
    logger: createLogger({ level: 'silent' }),
    prefix: 'abort-rt',
    timing: { lockDurationMs: 2000, stalledIntervalMs: 2000, backoffMs: 50, progressIntervalMs: 50 },
  });
  const pool = await startWorkers(rt, {
    registry: buildExecutorRegistry(undefined, rt),
    resolveEndpoints: () => ({ source: src, target: dst }),
    sweeper: false,
  });
  const t = await target.client();
  try {
    const m = await rt.service.create({
      source: 'src',
      target: 'dst',
      plan,
      requester: 'UREQ',
      buddy: 'UBUDDY',
    });
    const events: AuditEvent[] = [];
    const tail = rt.service.tailEvents(m.id, async (e) => {
      events.push(e);
      if (e.type === 'approval_requested' && e.stepKind === 'start_replication') {
        await rt.service.approve(m.id, e.stepId!, 'UBUDDY', String(e.data?.stepHash));
      }
    });
    assert.ok((await rt.service.start(m.id, 'UREQ')).ok);
    // Synced and verified; the make_writable gate now waits for the buddy: nothing is running.
    await until('the make_writable gate', async () =>
      events.some((e) => e.type === 'approval_requested' && e.stepKind === 'make_writable'),
    );
    assert.match(await t.info('replication'), /role:slave/);
    assert.equal(await t.config('GET', 'masterauth').then((r) => (r as string[])[1]), 'abort-src-pw');

    assert.ok((await rt.service.abort(m.id, 'UREQ', 'test abort')).ok);
    await until('the target to be detached', async () => /role:master/.test(await t.info('replication')));
    await until(
      'the settings to be restored',
      async () => ((await t.config('GET', 'masterauth')) as string[])[1] === '',
    );
    await until('the cleanup note', async () =>
      events.some(
        (e) => e.type === 'note' && /after the abort: .*REPLICAOF NO ONE|detached/i.test(e.message),
      ),
    );
    assert.equal(events.filter((e) => e.type === 'note' && /after the abort/.test(e.message)).length, 1);
    await tail.close();
  } finally {
    await pool.close();
    await rt.close();
  }
});
