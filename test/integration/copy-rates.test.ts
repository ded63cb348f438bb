// A finished copy records its measured rate in the control Redis, per strategy and server pair,
// and the next plan between the same servers estimates its copy time from it (and says so).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Runtime, WorkerPool } from '../../src/jobs/runtime.js';
import { withDefaults } from '../../src/planner/defaults.js';
import { formatPlan } from '../../src/planner/format.js';
import { probeEndpoint } from '../../src/probe/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { RECORDED_RUNS } from '../../src/runbook/copy-rates.js';
import { preparePlan } from '../../src/usecases/plan-migration.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import {
  approve,
  inProcessWorkers,
  killChildren,
  planFor,
  stepOf,
  until,
} from './dump-restore-support/helpers.js';

describe('copy rates: recorded by a finished copy, used by the next plan', () => {
  let control: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let rt: Runtime;
  let pool: WorkerPool;

  before(async () => {
    [control, source, target] = await Promise.all([startRedis(), startRedis(), startRedis()]);
    const db = await source.client();
    const pipe = db.pipeline();
    for (let i = 0; i < 3000; i++) pipe.set(`k:${i}`, `v${i}`);
    await pipe.exec();
    ({ rt, pool } = await inProcessWorkers(
      { control, source, target },
      { prefix: 'rates', workerId: 'rates-worker' },
    ));
  });

  after(async () => {
    killChildren();
    await pool?.close(5000);
    await rt?.close();
    await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
  });

  it('the bulk copy records keys/s and bytes/s; the next plan estimates at the median, saying so', async () => {
    const src = parseEndpointUrl(source.url, 'src');
    const dst = parseEndpointUrl(target.url, 'dst');
    const pair = { source: src, target: dst };
    const { service } = rt;
    assert.deepEqual(await service.copyRates.read(pair), {}, 'nothing recorded before the first copy');

    const plan = await planFor(src, dst);
    assert.match(plan.estimates.rateFrom ?? '', /dump-restore default/);
    const m = await service.create({
      source: 'src',
      target: 'dst',
      plan,
      requester: 'UREQ',
      buddy: 'UBUDDY',
    });
    assert.ok((await service.start(m.id, 'UREQ')).ok);
    await approve(service, m.id, 'bulk_copy');
    const copied = await until('the bulk copy to succeed', async () => {
      const cur = (await service.get(m.id))!;
      const step = stepOf(cur, 'bulk_copy');
      if (step.status === 'failed') throw new Error(`bulk copy failed: ${step.error}`);
      return step.status === 'succeeded' && step;
    });
    assert.ok((await service.abort(m.id, 'UREQ', 'the copy was all this test needed')).ok);

    const recorded = await service.copyRates.read(pair);
    const runs = recorded['dump-restore'] ?? [];
    assert.equal(runs.length, 1);
    const result = copied.result as { keysCopied: number; bytesCopied: number; durationMs: number };
    assert.equal(runs[0]!.keys, result.keysCopied);
    assert.equal(runs[0]!.keysPerSecond, Math.round(result.keysCopied / (result.durationMs / 1000)));
    assert.ok((runs[0]!.bytesPerSecond ?? 0) > 0, 'the scan copy knows its bytes');
    assert.equal(recorded.replication, undefined, 'only the strategy that copied');
    // Another pair has no record.
    assert.deepEqual(await service.copyRates.read({ source: dst, target: src }), {});

    // The next plan between the same servers, through the use case, with the recorded rates.
    const next = await preparePlan(
      {
        source: src,
        target: dst,
        options: withDefaults({ strategy: 'dump-restore', onNonEmptyTarget: 'replace' }),
        hooks: undefined,
        rates: (p) => service.copyRates.read(p),
      },
      (e, o) => probeEndpoint(e, o),
    );
    assert.equal(next.plan.estimates.keysPerSecond, runs[0]!.keysPerSecond);
    assert.match(
      formatPlan(next.plan),
      /keys\/s \(the median measured over 1 run of dump-restore between these servers\)/,
    );
  });

  it(`keeps the last ${RECORDED_RUNS} runs per strategy and pair, newest first`, async () => {
    const pair = {
      source: { host: 'Old.example', port: 6379 },
      target: { host: 'new.example', port: 6380 },
    };
    for (let i = 1; i <= RECORDED_RUNS + 2; i++) {
      await rt.service.copyRates.record('migrate', pair, { keys: i * 1000, durationMs: 1000 }, `t${i}`);
    }
    // A copy that measured nothing is not recorded.
    await rt.service.copyRates.record('migrate', pair, { keys: 0, durationMs: 1000 }, 'empty');
    const runs = (await rt.service.copyRates.read({ ...pair, source: { host: 'old.example', port: 6379 } }))
      .migrate!;
    assert.equal(runs.length, RECORDED_RUNS);
    assert.deepEqual(
      runs.slice(0, 2).map((r) => [r.keysPerSecond, r.at, r.bytesPerSecond]),
      [
        [12_000, 't12', undefined],
        [11_000, 't11', undefined],
      ],
    );
  });
});
