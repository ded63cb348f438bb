// Worker processes dying, freezing and shutting down in the middle of a step. Each worker is a
// separate tsx process (jobs-support/worker-child.ts) with 1 s lock and stall intervals.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { openRuntime, type Runtime } from '../../src/jobs/runtime.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import type { AuditEvent } from '../../src/runbook/events.js';
import { createLogger } from '../../src/util/logger.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { plannedStep, SETTINGS, testPlan } from '../unit/runbook/fixtures.js';
import { spawnWorker, type WorkerChild } from './jobs-support/children.js';

let server: RedisServer;
let redis: Redis;
let n = 0;
const children: WorkerChild[] = [];
const runtimes: Runtime[] = [];

before(async () => {
  server = await startRedis();
  redis = await server.client();
});
after(async () => {
  for (const c of children) c.kill();
  await Promise.all(children.map((c) => c.exited));
  for (const rt of runtimes) await rt.close();
  await server.stop();
});

async function setup(total: number, tickMs: number) {
  const prefix = `c${n++}`;
  const rt = await openRuntime({
    control: parseEndpointUrl(server.url, 'control'),
    logger: createLogger({ level: 'silent' }),
    prefix,
    settings: SETTINGS,
  });
  runtimes.push(rt);
  const plan = testPlan([
    plannedStep(1, 'bulk_copy', false, { total, tickMs }),
    plannedStep(2, 'verify', false),
  ]);
  const m = await rt.service.create({ source: 'src', target: 'dst', plan, requester: 'UREQ' });
  const worker = (id: string, extra: Record<string, string> = {}) => {
    const w = spawnWorker({
      CONTROL_URL: server.url,
      TARGET_URL: server.url,
      PREFIX: prefix,
      WORKER_ID: id,
      ...extra,
    });
    children.push(w);
    return w;
  };
  const log = `log:${m.id}:1-bulk-copy`;
  const starts = `starts:${m.id}:1-bulk-copy`;
  return { rt, m, worker, log, starts };
}

async function until<T>(what: string, get: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const entriesOf = async (key: string) =>
  (await redis.lrange(key, 0, -1)).map((e) => e.split(':').map(Number) as [number, number]);
const ofType = (events: AuditEvent[], type: string) => events.filter((e) => e.type === type);

describe('jobs: crashes and shutdowns', () => {
  it('a worker killed with SIGKILL mid-step is replaced; the step resumes from its checkpoint', async (t) => {
    const total = 200;
    const { rt, m, worker, log, starts } = await setup(total, 25);
    const a = worker('wa');
    await a.ready;
    await rt.service.start(m.id, 'UREQ');
    await until('writes by the first worker', async () => (await redis.llen(log)) >= 15);
    process.kill(a.pid, 'SIGKILL');
    assert.ok((await redis.llen(log)) < total, 'killed mid-step');
    const killedAt = Date.now();
    await a.exited;
    const cut = await redis.llen(log);
    const b = worker('wb');
    await b.ready;
    const done = await until('migration end', async () => {
      const cur = await rt.service.get(m.id);
      return cur && ['succeeded', 'failed'].includes(cur.status) && cur;
    });
    assert.equal(done.status, 'succeeded');
    const startsList = await redis.lrange(starts, 0, -1);
    assert.equal(startsList.length, 2, startsList.join(' '));
    const resumedAt = Number(startsList[1]!.split(':')[1]);
    assert.ok(resumedAt > 0, 'the counter did not restart from zero');
    assert.ok(resumedAt >= cut - 1, `resumed at ${resumedAt}, the first worker had written ${cut}`);
    const entries = await entriesOf(log);
    assert.deepEqual(
      [...new Set(entries.map(([, i]) => i))].sort((x, y) => x - y),
      [...Array(total).keys()],
    );
    assert.ok(entries.length <= total + 1, 'at most the item in flight was written twice');
    const step = done.steps[0]!;
    assert.equal(step.epoch, 2);
    assert.equal(step.worker, undefined);
    const events = await rt.service.events(m.id);
    const resumed = ofType(events, 'step_resumed');
    assert.equal(resumed.length, 1);
    assert.equal(resumed[0]!.actor, 'worker:wb');
    t.diagnostic(
      `resumed ${Date.parse(resumed[0]!.at) - killedAt} ms after the SIGKILL (1 s lock, 1 s stall checks, incl. worker start)`,
    );
    assert.equal(ofType(events, 'step_succeeded').length, 2);
    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0);
  });

  it('a frozen (SIGSTOP) worker loses its step to another and is fenced out when it wakes up', async () => {
    const total = 200;
    const { rt, m, worker, log, starts } = await setup(total, 25);
    const workers = [worker('w1'), worker('w2')];
    await Promise.all(workers.map((w) => w.ready));
    await rt.service.start(m.id, 'UREQ');
    await until('writes by the first worker', async () => (await redis.llen(log)) >= 10);
    // Freeze whichever worker holds the step.
    const frozenId = (await rt.store.lease(m.id, '1-bulk-copy')).owner!;
    const index = ['w1', 'w2'].indexOf(frozenId);
    assert.ok(index >= 0, `held by ${frozenId}`);
    const frozen = workers[index]!;
    const other = workers[1 - index]!;
    process.kill(frozen.pid, 'SIGSTOP');
    try {
      assert.ok((await redis.llen(log)) < total, 'frozen mid-step');
      await until('takeover', async () => (await redis.llen(starts)) >= 2);
    } finally {
      process.kill(frozen.pid, 'SIGCONT');
    }
    const done = await until('migration end', async () => {
      const cur = await rt.service.get(m.id);
      return cur && ['succeeded', 'failed'].includes(cur.status) && cur;
    });
    assert.equal(done.status, 'succeeded');
    const events = await until('the fenced note', async () => {
      const ev = await rt.service.events(m.id);
      return ofType(ev, 'step_fenced').length > 0 && ev;
    });
    const fenced = ofType(events, 'step_fenced');
    assert.equal(fenced.length, 1);
    assert.equal(fenced[0]!.actor, `worker:${frozenId}`);
    assert.equal(ofType(events, 'step_succeeded').filter((e) => e.stepId === '1-bulk-copy').length, 1);
    const entries = await entriesOf(log);
    const firstOfB = entries.findIndex(([epoch]) => epoch === 2);
    assert.ok(firstOfB > 0);
    assert.ok(
      entries.slice(firstOfB).filter(([epoch]) => epoch === 1).length <= 1,
      'no writes after the wake-up but the one in flight',
    );
    assert.deepEqual(await rt.store.getCheckpoint(m.id, '1-bulk-copy'), { next: total });
    for (const w of [frozen, other]) w.child.kill('SIGTERM');
    assert.deepEqual(await Promise.all([frozen.exited, other.exited]), [0, 0]);
  });

  it('SIGTERM: the worker checkpoints, hands the step back and exits in time; another resumes it', async () => {
    const total = 200;
    const { rt, m, worker, log, starts } = await setup(total, 25);
    const a = worker('leaving', { SHUTDOWN_MS: '5000' });
    await a.ready;
    await rt.service.start(m.id, 'UREQ');
    await until('writes', async () => (await redis.llen(log)) >= 10);
    a.child.kill('SIGTERM');
    assert.equal(await a.exited, 0);
    const closed = a.stdout.find((l) => l.startsWith('closed '))!;
    assert.match(closed, /^closed true \d+$/, 'stopped cleanly within the bound');
    const cut = await redis.llen(log);
    const step = (await rt.service.get(m.id))!.steps[0]!;
    assert.equal(step.status, 'running');
    assert.equal((await rt.store.lease(m.id, step.id)).leaseUntil, 0, 'lease released');
    const job = await rt.queue.queue.getJob(`mb-${m.id}-1-bulk-copy-a1`);
    assert.equal(job?.attemptsMade, 0, 'a shutdown does not use up an attempt');

    const b = worker('arriving');
    await b.ready;
    const done = await until('migration end', async () => {
      const cur = await rt.service.get(m.id);
      return cur && ['succeeded', 'failed'].includes(cur.status) && cur;
    });
    assert.equal(done.status, 'succeeded');
    const startsList = await redis.lrange(starts, 0, -1);
    assert.equal(Number(startsList[1]!.split(':')[1]), cut, 'resumed exactly at the saved checkpoint');
    const events = await rt.service.events(m.id);
    assert.ok(events.some((e) => e.type === 'note' && /let go of .*shutdown/.test(e.message)));
    b.child.kill('SIGTERM');
    assert.equal(await b.exited, 0);
  });
});
