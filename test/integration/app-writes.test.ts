// The record of writes on the target after the repoint: every client's writes are recorded, the
// final check's stop sees everything written before it, and a lost connection or a flush leaves
// the record incomplete, so that it explains nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { MigrationStore } from '../../src/runbook/store.js';
import {
  AppWriteRecord,
  AppWriteWatches,
  FinalCheckAppWrites,
} from '../../src/strategies/app-writes/index.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

describe('app-write record', () => {
  let control: RedisServer;
  let target: RedisServer;
  let watches: AppWriteWatches;
  let record: AppWriteRecord;

  before(async () => {
    [control, target] = await Promise.all([startRedis(), startRedis({ password: 'aw-secret' })]);
    record = new AppWriteRecord(new MigrationStore(await control.client(), { prefix: 'aw' }));
    watches = new AppWriteWatches(record, 'test-worker');
  });
  after(async () => {
    await watches.closeAll();
    await Promise.all([control.stop(), target.stop()]);
  });

  const endpoint = () => parseEndpointUrl(target.url, 'dst');
  const final = (id: string) =>
    new FinalCheckAppWrites({ migration: { id } as never }, () => ({ record, watches }));

  it('records the keys every client writes (any db, binary names) up to the final check, and explains only those', async () => {
    assert.equal(await watches.ensure('m1', endpoint()), 'started');
    assert.equal(await watches.ensure('m1', endpoint()), 'running', 'a second repoint run keeps the watch');
    const app = await target.client();
    await app.set('written', '1');
    await app.select(2);
    await app.hset(Buffer.from([0xff, 0x00, 0x41]), 'f', 'v');
    await app.select(0);
    await app.del('never-existed');
    const check = final('m1');
    const answers = await check.explain([
      { db: 0, key: Buffer.from('written') },
      { db: 2, key: Buffer.from([0xff, 0x00, 0x41]) },
      { db: 0, key: Buffer.from('untouched') },
    ]);
    assert.deepEqual(answers, [true, true, false]);
    const outcome = await check.conclude();
    assert.deepEqual(outcome, { recordedKeys: 2, complete: true, why: null });
    const meta = await record.read('m1');
    assert.ok(meta?.stoppedMs, 'stopped by the final check');
    // Writes after the final check stopped it are not recorded.
    await app.set('later', '1');
    assert.deepEqual(await record.contains('m1', [Buffer.from('later')]), [false]);
  });

  it('a lost connection to the target leaves the record incomplete: it explains nothing and says why', async () => {
    await watches.ensure('m2', endpoint());
    const app = await target.client();
    await app.set('k', '1');
    // Kill the watch's connections (they carry our client name), as a network cut would.
    const list = String(await app.client('LIST'));
    const ids = [...list.matchAll(/id=(\d+) .*name=migration-buddy:app-writes/g)].map((m) => m[1]!);
    assert.equal(ids.length, 2, list);
    for (const id of ids) await app.client('KILL', 'ID', id);
    await new Promise((r) => setTimeout(r, 300));
    const check = final('m2');
    assert.deepEqual(await check.explain([{ db: 0, key: Buffer.from('k') }]), [false]);
    const outcome = await check.conclude();
    assert.equal(outcome.complete, false);
    assert.match(outcome.why ?? '', /connection to the target closed/);
  });

  it('a flush of the target after the repoint makes the record incomplete', async () => {
    await watches.ensure('m3', endpoint());
    const app = await target.client();
    await app.set('k3', '1');
    await app.flushall();
    const outcome = await final('m3').conclude();
    assert.equal(outcome.complete, false);
    assert.match(outcome.why ?? '', /flushed/);
  });

  it('no record (the repoint ran where none is kept) explains nothing', async () => {
    const outcome = await final('m-none').conclude();
    assert.equal(outcome.complete, false);
    assert.match(outcome.why ?? '', /no record of writes on the target was started/);
    const without = new FinalCheckAppWrites({ migration: { id: 'm4' } as never }, () => undefined);
    assert.deepEqual(await without.explain([{ db: 0, key: Buffer.from('x') }]), [false]);
  });
});
