// A psync migration on worker processes with the production lock and stall timings, while the test
// app writes (INCR, RPUSH, HSET: applying any stretch of the stream twice would show): the worker
// holding the follower is SIGKILLed mid-stream. Another worker takes the run over within 10 s and
// the replica goes on, either continuing the stream (from a point the source had not moved past)
// or with a full sync onto emptied databases (the killed one applied past its last checkpoint);
// the migration ends with every acknowledged write on the target and both servers identical by
// an independent reader.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openRuntime, type Runtime } from '../../src/jobs/runtime.js';
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

const KEYS = 20_000;
const TAKEOVER_BOUND_MS = 10_000;

describe('psync: the follower worker killed mid-stream, production timings', () => {
  let control: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let rt: Runtime;
  let dir: string;

  before(async () => {
    [control, source, target] = await Promise.all([
      startRedis(),
      startRedis({ configLines: ['repl-diskless-sync-delay 0'] }),
      startRedis(),
    ]);
    rt = await openRuntime({
      control: parseEndpointUrl(control.url, 'control'),
      logger: createLogger({ level: 'silent' }),
      prefix: 'ptakeover',
      livePhase: LIVE_PHASE_TIMING,
    });
    dir = mkdtempSync(join(tmpdir(), 'mb-psync-takeover-'));
  });

  after(async () => {
    killChildren();
    await rt?.close();
    await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('takes the follower over within 10 s; no acknowledged write lost, nothing applied twice', async (t) => {
    const db = await source.client();
    for (let i = 0; i < KEYS; i += 5000) {
      const pipe = db.pipeline();
      for (let k = i; k < i + 5000; k++) pipe.set(`seed:${k}`, `value-${k}`);
      await pipe.exec();
    }
    db.disconnect();
    const env = (id: string) => ({
      CONTROL_URL: control.url,
      SOURCE_URL: source.url,
      TARGET_URL: target.url,
      PREFIX: 'ptakeover',
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

    const plan = await planFor(parseEndpointUrl(source.url, 'src'), parseEndpointUrl(target.url, 'dst'), {
      strategy: 'psync',
    });
    assert.equal(plan.strategy, 'psync', JSON.stringify(plan.blockers));
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
    const read = async () => (await rt.livePhase.store.read(m.id)).status;

    const streaming = await until(
      'the follower to stream',
      async () => {
        const s = await read();
        return (
          s?.psync?.phase === 'stream' &&
          stepOf((await service.get(m.id))!, 'live_sync').status === 'succeeded' &&
          s
        );
      },
      60_000,
    );
    // Mid-stream: the replica has saved where it is at least once.
    await until('a checkpoint', async () => (await rt.livePhase.store.psyncResume(m.id))?.checkpoint, 10_000);
    workers.get(streaming.worker)!.kill('SIGKILL');
    const killedAt = Date.now();
    await spawn('w3');
    const takenOver = await until(
      'the follower to be taken over',
      async () =>
        (await events()).find(
          (e) => /follower run \d+ taken over by/.test(e.message) && Date.parse(e.at) >= killedAt,
        ),
      30_000,
    );
    const takeoverMs = Date.parse(takenOver.at) - killedAt;
    t.diagnostic(`follower taken over ${takeoverMs} ms after the SIGKILL: ${takenOver.message}`);
    assert.ok(takeoverMs < TAKEOVER_BOUND_MS, `follower taken over after ${takeoverMs} ms`);
    const caughtUp = await until(
      'the new follower to stream again',
      async () => {
        const s = await read();
        return s && s.epoch >= 2 && s.psync?.phase === 'stream' && s.caughtUp && s;
      },
      60_000,
    );
    const said = (await events()).map((e) => e.message);
    const how = said.find((m) =>
      /^psync: (replication continued|the last holder stopped without saving)/.test(m),
    );
    assert.ok(how, said.join('\n'));
    t.diagnostic(`after the takeover: ${how} (replid ${caughtUp.psync?.replid})`);

    // The app stops before the cutover: afterwards both servers must hold the same data.
    const report = await app.stop();
    await approve(service, m.id, 'write_pause');
    await awaiting(service, m.id, 'repoint');
    writeEndpointFile(endpointFile, target.url);
    await confirm(service, m.id, 'repoint');
    const done = await ended(service, m.id);
    assert.equal(done.status, 'succeeded', explain(done));
    const check = await checkAcknowledged(report, target.url);
    assert.ok(
      check.ok,
      `${check.missing.length} acknowledged writes missing: ${JSON.stringify(check.missing.slice(0, 5))}`,
    );
    assert.deepEqual((await compareServers(source, target, { ttlToleranceMs: 1000 })).slice(0, 10), []);
    t.diagnostic(`${report.acknowledged} app writes acknowledged`);
  });
});
