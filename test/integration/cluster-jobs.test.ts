// A cluster's bulk copy and verify as one BullMQ child job per source shard, run by separate worker
// processes (cluster-jobs-support/worker-child.ts: the real runtime and executors): cluster ->
// cluster with 3 primaries on 2 workers, checked with the independent comparison
// (test/harness/compare-cluster.ts); a worker SIGKILLed mid-shard whose shard another worker
// resumes from the shard's checkpoint; a failing shard failing the step by name.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { keySlot } from '../../src/engine/cluster/slot.js';
import { shardJobId } from '../../src/jobs/job-ids.js';
import { openRuntime, type Runtime } from '../../src/jobs/runtime.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import type { Migration, ShardProgressLine } from '../../src/runbook/model.js';
import { createLogger } from '../../src/util/logger.js';
import { compareSides } from '../harness/compare-cluster.js';
import { evenSlotRanges, type RedisCluster, startCluster } from '../harness/redis-cluster.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { plannedStep, SETTINGS, testPlan } from '../unit/runbook/fixtures.js';
import { fillEveryType } from './copy-fixtures.js';
import { spawnWorker, type WorkerChild } from './jobs-support/children.js';

const CHILD = fileURLToPath(new URL('./cluster-jobs-support/worker-child.ts', import.meta.url));

let control: RedisServer;
let controlClient: Redis;
let source: RedisCluster;
let target: RedisCluster;
let n = 0;
const children: WorkerChild[] = [];
const runtimes: Runtime[] = [];

before(async () => {
  [control, source, target] = await Promise.all([
    startRedis(),
    startCluster({ primaries: 3 }),
    startCluster({ primaries: 3 }),
  ]);
  controlClient = await control.client();
});
after(async () => {
  for (const c of children) c.kill();
  await Promise.all(children.map((c) => c.exited));
  for (const rt of runtimes) await rt.close();
  await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
});

/** `count` plain keys (every 4th with a TTL), each written on the primary that owns its slot. */
async function fillPlain(cluster: RedisCluster, prefix: string, count: number): Promise<void> {
  const ranges = evenSlotRanges(cluster.primaries.length);
  const clients = await Promise.all(cluster.primaries.map((p) => p.server.client()));
  const pipes = clients.map((c) => c.pipeline());
  for (let i = 0; i < count; i++) {
    const key = `${prefix}k:${i}`;
    const slot = keySlot(key);
    const owner = ranges.findIndex(([a, b]) => slot >= a && slot <= b);
    if (i % 4 === 0) pipes[owner]!.set(key, `v${i}`, 'PX', 600_000);
    else pipes[owner]!.set(key, `v${i}`);
  }
  await Promise.all(pipes.map((p) => p.exec()));
}

async function flush(cluster: RedisCluster): Promise<void> {
  for (const p of cluster.primaries) await (await p.server.client()).flushall();
}

async function flushBoth(): Promise<void> {
  await Promise.all([flush(source), flush(target)]);
}

async function setup(
  params: { copy?: Record<string, unknown>; verify?: boolean; strategy?: 'migrate' } = {},
) {
  const prefix = `cj${n++}`;
  const rt = await openRuntime({
    control: parseEndpointUrl(control.url, 'control'),
    logger: createLogger({ level: 'silent' }),
    prefix,
    settings: SETTINGS,
  });
  runtimes.push(rt);
  const steps = [plannedStep(1, 'bulk_copy', false, { onNonEmptyTarget: 'refuse', ...params.copy })];
  if (params.verify !== false) steps.push(plannedStep(2, 'verify', false, {}));
  const m = await rt.service.create({
    source: 'src',
    target: 'dst',
    plan: { ...testPlan(steps), ...(params.strategy ? { strategy: params.strategy } : {}) },
    requester: 'UREQ',
  });
  const worker = (id: string, extra: Record<string, string> = {}) => {
    const w = spawnWorker(
      {
        CONTROL_URL: control.url,
        SOURCE_URL: source.url,
        TARGET_URL: target.url,
        PREFIX: prefix,
        WORKER_ID: id,
        SHARD_CONCURRENCY: '1',
        ...extra,
      },
      CHILD,
    );
    children.push(w);
    return w;
  };
  return { rt, m, worker, prefix };
}

async function until<T>(what: string, get: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const finished = (rt: Runtime, id: string) =>
  until('the migration to end', async () => {
    const cur = await rt.service.get(id);
    return cur && ['succeeded', 'failed', 'aborted'].includes(cur.status) && cur;
  });

interface ShardRow {
  shard: string;
  node: string;
  keys: number;
  worker: string;
  resumed: boolean;
}
const shardRows = (m: Migration, stepId: string) =>
  (m.steps.find((s) => s.id === stepId)!.result as { shards: ShardRow[] }).shards;

async function stop(...workers: WorkerChild[]): Promise<void> {
  for (const w of workers) w.child.kill('SIGTERM');
  assert.deepEqual(
    await Promise.all(workers.map((w) => w.exited)),
    workers.map(() => 0),
  );
}

describe('cluster shards as child jobs', () => {
  it('cluster -> cluster (3 primaries): bulk copy and verify run as shard jobs shared by 2 workers', async () => {
    await flushBoth();
    const c = (await source.client()) as unknown as Redis;
    await fillEveryType(c, 'a:');
    for (let i = 0; i < 30; i++) await c.set(`{a:user${i % 3}}.f${i}`, `tagged-${i}`);
    await fillPlain(source, 'a:', 6000);
    const { rt, m, worker } = await setup();
    // A pause after each checkpoint keeps each shard busy long enough for both workers to share them.
    const workers = [
      worker('w1', { SHARD_SAVE_DELAY_MS: '50' }),
      worker('w2', { SHARD_SAVE_DELAY_MS: '50' }),
    ];
    await Promise.all(workers.map((w) => w.ready));
    await rt.service.start(m.id, 'UREQ');

    // Progress per shard, as the card and the CLI get it.
    const lines = await until('per-shard progress', async () => {
      const p = (await rt.service.progress(m.id))['1-bulk-copy'];
      return p?.shards && p.shards.length === 3 && p.shards.some((l) => l.state === 'running') && p;
    });
    assert.equal(lines.phase, 'keys');
    assert.ok(lines.shards!.every((l: ShardProgressLine) => /^127\.0\.0\.1:\d+$/.test(l.node)));

    const done = await finished(rt, m.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.steps.map((s) => s.error ?? s.summary)));
    // The pauses after each checkpoint hold pages read ahead between their read and their write,
    // which the TTLs written show: a wider tolerance than the default 1.5 s.
    assert.deepEqual(await compareSides(source, target, {}, { ttlToleranceMs: 5000 }), []);

    const rows = shardRows(done, '1-bulk-copy');
    assert.deepEqual(
      rows.map((r) => r.shard).sort(),
      source.primaries.map((p) => p.id).sort(),
      'one job per source primary',
    );
    const copied = rows.reduce((s, r) => s + r.keys, 0);
    const total = (
      await Promise.all(source.primaries.map(async (p) => (await p.server.client()).dbsize()))
    ).reduce((a, b) => a + b);
    assert.equal(copied, total);
    assert.equal(
      new Set(rows.map((r) => r.worker)).size,
      2,
      `spread: ${rows.map((r) => r.worker).join(' ')}`,
    );
    const copyStep = done.steps[0]!;
    assert.match(copyStep.summary!, new RegExp(`copied ${total} keys from 3 shard\\(s\\) on 2 worker`));

    const verify = done.steps[1]!;
    assert.equal(verify.verdict, 'ok');
    assert.match(verify.summary!, /^identical: \d+ keys checked over 3 shard/);
    assert.equal(shardRows(done, '2-verify').length, 3);
    await stop(...workers);
  });

  it('a worker SIGKILLed mid-shard: another worker takes the shard over and resumes from its checkpoint', async () => {
    await flushBoth();
    await fillPlain(source, 'b:', 9000);
    const { rt, m, worker, prefix } = await setup({ verify: false });
    const a = worker('wa', { SHARD_CONCURRENCY: '3', SHARD_SAVE_DELAY_MS: '150' });
    await a.ready;
    await rt.service.start(m.id, 'UREQ');
    // Every shard has saved a checkpoint: each is part way.
    const cpKeys = await until('a checkpoint on every shard', async () => {
      const keys = await controlClient.keys(`${prefix}:mig:${m.id}:shard:1-bulk-copy:*`);
      const withCp = [];
      for (const k of keys.filter((k) => !k.endsWith(':loads'))) {
        if (await controlClient.hexists(k, 'cp')) withCp.push(k);
      }
      return withCp.length === 3 && withCp;
    });
    process.kill(a.pid, 'SIGKILL');
    await a.exited;
    for (const k of cpKeys) assert.equal(await controlClient.hexists(k, 'result'), 0, 'killed mid-shard');
    const savedBefore = new Map<string, string>();
    for (const k of cpKeys) savedBefore.set(k, (await controlClient.hget(k, 'cp'))!);

    const b = worker('wb', { SHARD_CONCURRENCY: '3' });
    await b.ready;
    const done = await finished(rt, m.id);
    assert.equal(done.status, 'succeeded', done.steps[0]!.error);
    // As above: the killed worker's pauses after each checkpoint show in the TTLs it wrote.
    assert.deepEqual(await compareSides(source, target, {}, { ttlToleranceMs: 5000 }), [], 'every key there');
    const rows = shardRows(done, '1-bulk-copy');
    assert.equal(rows.length, 3);
    for (const r of rows) {
      assert.equal(r.worker, 'wb', 'finished by the worker that took over');
      assert.equal(r.resumed, true, `shard ${r.shard} resumed from its checkpoint, not from the first key`);
    }
    for (const k of cpKeys) {
      assert.equal(await controlClient.hget(k, 'epoch'), '2', 'taken twice: wa, then wb');
      // wa started from nothing; wb from the last checkpoint wa saved, not from the first key.
      const loads = await controlClient.lrange(`${k}:loads`, 0, -1);
      assert.equal(loads[0], 'null');
      assert.equal(loads.at(-1), savedBefore.get(k));
      assert.notEqual(loads.at(-1), 'null');
    }
    await stop(b);
  });

  it('a failing shard fails the step, naming the shard and what to do', async () => {
    await flushBoth();
    await fillPlain(source, 'c:', 600);
    // The target primary owning the second third of the slots refuses every write.
    const full = await target.primaries[1]!.server.client();
    await full.config('SET', 'maxmemory-policy', 'noeviction');
    await full.config('SET', 'maxmemory', '1');
    try {
      const { rt, m, worker } = await setup({ verify: false });
      const w = worker('wf', { SHARD_CONCURRENCY: '3' });
      await w.ready;
      await rt.service.start(m.id, 'UREQ');
      const done = await finished(rt, m.id);
      assert.equal(done.status, 'failed');
      const step = done.steps[0]!;
      assert.equal(step.status, 'failed');
      const failedShard = source.primaries[1]!;
      assert.match(
        step.error!,
        new RegExp(`^shard 127\\.0\\.0\\.1:${failedShard.server.port} \\(${failedShard.id.slice(0, 8)}\\)`),
      );
      assert.match(step.error!, /Retry the step: the \d shard\(s\) that finished are not run again/);

      // Retry once the node takes writes again: only the shards that had not finished run again.
      await full.config('SET', 'maxmemory', '0');
      const firstRun = source.primaries.map((p) =>
        shardJobId({ migrationId: m.id, stepId: step.id, attempt: 1 }, p.id),
      );
      await until('the first run of every shard to end', async () => {
        const states = await Promise.all(firstRun.map((id) => rt.shardFlow.queue.getJobState(id)));
        return states.every((s) => s === 'completed' || s === 'failed');
      });
      const record = (shard: string) => rt.shards.key({ migrationId: m.id, stepId: step.id, shard });
      const before = new Map<string, { epoch: string | null; finished: boolean }>();
      for (const p of source.primaries) {
        before.set(p.id, {
          epoch: await controlClient.hget(record(p.id), 'epoch'),
          finished: (await controlClient.hexists(record(p.id), 'result')) === 1,
        });
      }
      assert.equal(before.get(failedShard.id)!.finished, false);
      const retried = await rt.service.retryStep(m.id, step.id, 'UREQ');
      assert.ok(retried.ok, retried.ok ? '' : retried.reason);
      const again = await finished(rt, m.id);
      assert.equal(again.status, 'succeeded', again.steps[0]!.error);
      assert.deepEqual(await compareSides(source, target), []);
      for (const [id, was] of before) {
        const epoch = await controlClient.hget(record(id), 'epoch');
        if (was.finished) assert.equal(epoch, was.epoch, `finished shard ${id} was not run again`);
        else assert.equal(Number(epoch), Number(was.epoch ?? 0) + 1, `unfinished shard ${id} ran again`);
      }
      await stop(w);
    } finally {
      await full.config('SET', 'maxmemory', '0');
    }
  });

  it("MIGRATE plans: each source primary sends its own shard's keys, one job per shard", async () => {
    await flushBoth();
    const c = (await source.client()) as unknown as Redis;
    await fillEveryType(c, 'e:');
    await fillPlain(source, 'e:', 1500);
    const { rt, m, worker } = await setup({ strategy: 'migrate', copy: { copy: true, pass: 'bulk' } });
    const w = worker('wm', { SHARD_CONCURRENCY: '3' });
    await w.ready;
    await rt.service.start(m.id, 'UREQ');
    const done = await finished(rt, m.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done.steps.map((s) => s.error ?? s.summary)));
    assert.deepEqual(await compareSides(source, target), []);
    assert.equal(done.steps[0]!.result?.method, 'migrate');
    assert.equal(shardRows(done, '1-bulk-copy').length, 3);
    assert.match(done.steps[1]!.summary!, /^identical: \d+ keys checked over 3 shard/);
    await stop(w);
  });

  it('an abort stops every running shard job', async () => {
    await flushBoth();
    await fillPlain(source, 'd:', 9000);
    const { rt, m, worker, prefix } = await setup({ verify: false });
    const w = worker('wab', { SHARD_CONCURRENCY: '3', SHARD_SAVE_DELAY_MS: '300' });
    await w.ready;
    await rt.service.start(m.id, 'UREQ');
    await until('a checkpoint on every shard', async () => {
      const keys = await controlClient.keys(`${prefix}:mig:${m.id}:shard:1-bulk-copy:*`);
      let n = 0;
      for (const k of keys.filter((k) => !k.endsWith(':loads'))) n += await controlClient.hexists(k, 'cp');
      return n === 3;
    });
    await rt.service.abort(m.id, 'UREQ', 'test');
    const done = await finished(rt, m.id);
    assert.equal(done.status, 'aborted');
    const jobs = await Promise.all(
      source.primaries.map((p) =>
        rt.shardFlow.queue.getJob(shardJobId({ migrationId: m.id, stepId: '1-bulk-copy', attempt: 1 }, p.id)),
      ),
    );
    await until('the shard jobs to stop', async () => {
      const states = await Promise.all(jobs.map((j) => j!.getState()));
      return states.every((s) => s === 'failed');
    });
    for (const j of await Promise.all(jobs.map((j) => rt.shardFlow.queue.getJob(j!.id!)))) {
      assert.match(j!.failedReason, /stopped: the migration was aborted/);
    }
    const keys = async () => {
      let n = 0;
      for (const p of target.primaries) n += await (await p.server.client()).dbsize();
      return n;
    };
    const stoppedAt = await keys();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await keys(), stoppedAt, 'nothing written after the abort');
    assert.ok(stoppedAt < 9000, 'stopped part way');
    await stop(w);
  });
});
