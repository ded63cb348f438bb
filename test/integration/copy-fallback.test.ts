import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { payloadChecksumOk, payloadRdbVersion, withRdbVersion } from '../../src/engine/copy/dump-payload.js';
import { copyKeys } from '../../src/engine/copy/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { fillEveryType } from './copy-fixtures.js';

/** A payload from a "newer" server: RDB version raised, CRC recomputed so only the version is wrong. */
const newer = (payload: Buffer) => withRdbVersion(payload, payloadRdbVersion(payload)! + 50);

async function restoreStats(s: RedisServer): Promise<{ calls: number; failed: number }> {
  const stats = await (await s.client()).info('commandstats');
  const m = /^cmdstat_restore:calls=(\d+).*failed_calls=(\d+)/m.exec(stats);
  return { calls: Number(m?.[1] ?? 0), failed: Number(m?.[2] ?? 0) };
}

describe('copy: fallback to native commands when the target rejects a payload', () => {
  let source: RedisServer;
  before(async () => {
    source = await startRedis();
    const c = await source.client();
    await fillEveryType(c);
    for (let i = 0; i < 200; i++) await c.set(`plain:${i}`, `value-${i}`);
  });
  after(async () => {
    await source.stop();
  });

  test('the target really rejects a tampered payload, though its checksum is right', async () => {
    const c = await source.client();
    const payload = newer((await c.dumpBuffer('hash:small'))!);
    assert.equal(payloadChecksumOk(payload), true);
    await assert.rejects(c.restore('tampered', 0, payload), /payload version or checksum are wrong/);
  });

  test('tampered keys are copied by type and counted; the others by RESTORE', async () => {
    const target = await startRedis();
    try {
      const tampered = new Set<string>();
      const report = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
        batchSize: 20,
        transformPayload: (key, payload) => {
          if (key.toString('latin1').startsWith('plain:')) return payload;
          tampered.add(key.toString('hex'));
          return newer(payload);
        },
      });
      assert.ok(tampered.size >= 20, `${tampered.size} tampered`);
      assert.equal(report.keysByTypeFallback, tampered.size);
      assert.equal(report.keysFailed, 0);
      assert.deepEqual(await compareServers(source, target), []);
      const restores = await restoreStats(target);
      // Rejected RESTOREs fell back; after a few rejections of that version it is not even tried.
      assert.ok(restores.failed >= 8 && restores.failed <= tampered.size, `${restores.failed} rejected`);
      assert.equal(restores.calls - restores.failed, 200);
    } finally {
      await target.stop();
    }
  });

  test('once a payload version is always rejected, RESTORE stops being tried for it', async () => {
    const target = await startRedis();
    try {
      const report = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
        batchSize: 5,
        transformPayload: (_key, payload) => newer(payload),
      });
      const total = (await (await source.client()).dbsize()) as number;
      assert.equal(report.keysByTypeFallback, total);
      assert.deepEqual(await compareServers(source, target), []);
      const restores = await restoreStats(target);
      assert.equal(restores.calls, restores.failed);
      assert.ok(restores.calls < total / 2, `${restores.calls} RESTOREs tried for ${total} keys`);
    } finally {
      await target.stop();
    }
  });

  test("mode 'dump' does not fall back: rejected keys are reported as errors", async () => {
    const target = await startRedis();
    try {
      const report = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
        mode: 'dump',
        match: 'zset:*',
        transformPayload: (_key, payload) => newer(payload),
      });
      assert.equal(report.keysFailed, 4);
      assert.equal(report.keysCopied, 0);
      assert.deepEqual(report.errors.map((e) => e.key).sort(), [
        'zset:big',
        'zset:binary',
        'zset:small',
        'zset:special',
      ]);
      assert.match(report.errors[0]!.reason, /payload version or checksum are wrong/);
    } finally {
      await target.stop();
    }
  });
});
