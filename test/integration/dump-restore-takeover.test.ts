// Workers SIGKILLed with the production lock and stall timings (no test shortcuts): the bulk copy's
// worker dies mid-copy, later the follower's worker dies mid live sync, while the test app writes.
// Each is taken over by another worker within 10 s, neither takeover copies every key again
// (RESTOREs on the target, from INFO commandstats, stay under 1.2x the keys), and the migration
// ends with every acknowledged write on the target and both servers identical (independent reads).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { openRuntime, type Runtime } from '../../src/jobs/runtime.js';
import { DEFAULT_TIMING } from '../../src/jobs/timing.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { createLogger } from '../../src/util/logger.js';
import { checkAcknowledged, startApp, writeEndpointFile } from '../harness/app/index.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import {
  approve,
  awaiting,
  confirm,
  ended,
  explain,
  killChildren,
  planFor,
  spawnWorker,
  stepOf,
  until,
  type WorkerProcess,
} from './dump-restore-support/helpers.js';
import { LIVE_PHASE_TIMING } from './dump-restore-support/timing.js';

const KEYS = 100_000;
const TAKEOVER_BOUND_MS = 10_000;

async function restores(target: Redis): Promise<number> {
  const info = await target.info('commandstats');
  return Number(/^cmdstat_restore:calls=(\d+)/m.exec(info)?.[1] ?? 0);
}

describe('dump-restore: workers killed with the production timings', () => {
  let control: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let rt: Runtime;
  let dir: string;

  before(async () => {
    [control, source, target] = await Promise.all([startRedis(), startRedis(), startRedis()]);
    rt = await openRuntime({
      control: parseEndpointUrl(control.url, 'control'),
      logger: createLogger({ level: 'silent' }),
      prefix: 'takeover',
      livePhase: LIVE_PHASE_TIMING,
    });
    dir = mkdtempSync(join(tmpdir(), 'mb-takeover-'));
  });

  after(async () => {
    killChildren();
    await rt?.close();
    await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the copy and the follower over within 10 s each, without copying everything again', async (t) => {
    const db = await source.client();
    for (let i = 0; i < KEYS; i += 5000) {
      const pipe = db.pipeline();
      for (let k = i; k < i + 5000; k++) pipe.set(`seed:${k}`, `value-${k}-${'x'.repeat(40)}`);
      await pipe.exec();
    }
    const tgt = await target.client();
    await tgt.config('RESETSTAT');
    const env = (id: string) => ({
      CONTROL_URL: control.url,
      SOURCE_URL: source.url,
      TARGET_URL: target.url,
      PREFIX: 'takeover',
      WORKER_ID: id,
      DEFAULT_JOB_TIMING: '1',
    });
    const workers = new Map<string, WorkerProcess>();
    const spawn = (id: string) => {
      const w = spawnWorker(env(id));
      workers.set(id, w);
      return w.ready;
    };
    await Promise.all([spawn('w1'), spawn('w2')]);
    const endpointFile = join(dir, 'app.url');
    writeEndpointFile(endpointFile, source.url);
    const app = await startApp({ endpointFile, rate: 300, dir });

    const plan = await planFor(parseEndpointUrl(source.url, 'src'), parseEndpointUrl(target.url, 'dst'));
    const { service } = rt;
    const m = await service.create({
      source: 'src',
      target: 'dst',
      plan,
      requester: 'UREQ',
      buddy: 'UBUDDY',
    });
    assert.ok((await service.start(m.id, 'UREQ')).ok);
    await approve(service, m.id, 'bulk_copy');
    const events = () => service.events(m.id);

    // 1. The copy's worker dies part way through the copy.
    const copyStep = stepOf((await service.get(m.id))!, 'bulk_copy');
    const copying = await until('the copy to be part way', async () => {
      const cur = stepOf((await service.get(m.id))!, 'bulk_copy');
      const done = (await tgt.dbsize()) > KEYS / 5;
      return cur.status === 'running' && cur.worker && done ? cur : undefined;
    });
    assert.ok(copying.status === 'running' && (await tgt.dbsize()) < KEYS, 'killed before the copy ended');
    const copyVictim = copying.worker!;
    workers.get(copyVictim)!.kill('SIGKILL');
    const copyKilledAt = Date.now();
    await spawn('w3');
    const resumed = await until(
      'the copy to be taken over',
      async () => (await events()).find((e) => e.stepId === copyStep.id && /execution 2/.test(e.message)),
      30_000,
    );
    const copyTakeoverMs = Date.parse(resumed.at) - copyKilledAt;
    t.diagnostic(`copy taken over ${copyTakeoverMs} ms after the SIGKILL: ${resumed.message}`);
    assert.ok(copyTakeoverMs < TAKEOVER_BOUND_MS, `copy taken over after ${copyTakeoverMs} ms`);

    // 2. The follower's worker dies while live sync applies the app's writes. (If the follower ran
    // beside the copy, it was taken over in step 1 already, while collecting.)
    const read = async () => (await rt.livePhase.store.read(m.id)).status;
    const following = await until(
      'the follower to follow',
      async () => {
        const s = await read();
        return (
          s?.applying &&
          s.state === 'following' &&
          stepOf((await service.get(m.id))!, 'live_sync').status === 'succeeded' &&
          s
        );
      },
      60_000,
    );
    workers.get(following.worker)!.kill('SIGKILL');
    const followerKilledAt = Date.now();
    const takenOver = await until(
      'the follower to be taken over',
      async () =>
        (await events()).find(
          (e) => /follower run \d+ taken over by/.test(e.message) && Date.parse(e.at) >= followerKilledAt,
        ),
      30_000,
    );
    const followerTakeoverMs = Date.parse(takenOver.at) - followerKilledAt;
    t.diagnostic(`follower taken over ${followerTakeoverMs} ms after the SIGKILL: ${takenOver.message}`);
    assert.ok(followerTakeoverMs < TAKEOVER_BOUND_MS, `follower taken over after ${followerTakeoverMs} ms`);
    const caughtUp = await until('the new follower to catch up', async () => {
      const s = await read();
      return s && s.epoch >= 2 && s.state === 'following' && !s.rescanPending && s;
    });
    assert.equal(caughtUp.reconciledOnStart, true, 'the gap was reconciled');

    // The app stops before the cutover: afterwards both servers must hold the same data.
    const report = await app.stop();
    await approve(service, m.id, 'write_pause');
    await awaiting(service, m.id, 'repoint');
    writeEndpointFile(endpointFile, target.url);
    await confirm(service, m.id, 'repoint');
    const done = await ended(service, m.id);
    assert.equal(done.status, 'succeeded', explain(done));

    const restoreCalls = await restores(tgt);
    const keys = await tgt.dbsize();
    t.diagnostic(
      `${restoreCalls} RESTOREs for ${keys} keys (${(restoreCalls / keys).toFixed(2)}x); ` +
        `${report.acknowledged} app writes acknowledged; lock ${DEFAULT_TIMING.lockDurationMs} ms, ` +
        `stall checks every ${DEFAULT_TIMING.stalledIntervalMs} ms`,
    );
    assert.ok(
      restoreCalls < 1.2 * keys,
      `${restoreCalls} RESTOREs for ${keys} keys: something copied everything again`,
    );
    const check = await checkAcknowledged(report, target.url);
    assert.ok(
      check.ok,
      `${check.missing.length} acknowledged writes missing: ${JSON.stringify(check.missing.slice(0, 5))}`,
    );
    assert.deepEqual((await compareServers(source, target, { ttlToleranceMs: 1000 })).slice(0, 10), []);
  });
});
