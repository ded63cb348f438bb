// The application harness itself: the app writes, the checker proves its acknowledged writes and
// fails when keys are changed by hand, and the repoint hook moves the app to another server.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCommandHook } from '../../../src/hooks/command.js';
import { parseEndpointUrl } from '../../../src/redis/endpoint.js';
import { type RedisServer, startRedis } from '../redis-server.js';
import {
  checkAcknowledged,
  readAckLog,
  readEndpointFile,
  repointHookCommand,
  startApp,
  writeEndpointFile,
} from './index.js';

async function until(what: string, test: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('test app harness', () => {
  let a: RedisServer;
  let b: RedisServer;
  let dir: string;

  before(async () => {
    [a, b] = await Promise.all([startRedis({ password: 'app-harness-pw' }), startRedis()]);
    dir = mkdtempSync(join(tmpdir(), 'mb-app-test-'));
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs every acknowledged write; the checker passes, then fails on keys changed by hand', async () => {
    const endpointFile = join(dir, 'endpoint-1');
    writeEndpointFile(endpointFile, a.url);
    const app = await startApp({ endpointFile, dir, prefix: 'app1:' });
    await sleep(1500);
    const report = await app.stop();
    assert.ok(report.acknowledged > 300, `only ${report.acknowledged} writes acknowledged in 1.5 s`);
    assert.deepEqual(Object.keys(report.byServer), [`${a.host}:${a.port}`]);
    assert.equal(report.byServer[`${a.host}:${a.port}`], report.acknowledged);
    assert.equal(report.errors, 0, report.lastErrors.join('; '));
    assert.ok(report.p99Ms <= report.maxWaitMs);
    const lines = await readAckLog(report.logFile);
    assert.equal(lines.length, report.acknowledged);
    assert.deepEqual(new Set(lines.map((l) => l.op)), new Set(['set', 'incr', 'hset', 'rpush', 'setpx']));
    assert.ok(lines.every((l) => l.key.startsWith('app1:')));

    const good = await checkAcknowledged(report, a.url);
    assert.equal(good.ok, true, JSON.stringify(good.missing.slice(0, 5)));
    assert.ok(good.checked > report.acknowledged / 2, `checked ${good.checked}`);

    // Tamper with one key of each kind: every one is caught.
    const pick = (op: string) => lines.findLast((l) => l.op === op)!;
    const [set, incr, hset, rpush, setpx] = ['set', 'incr', 'hset', 'rpush', 'setpx'].map(pick) as [
      (typeof lines)[number],
      (typeof lines)[number],
      (typeof lines)[number],
      (typeof lines)[number],
      (typeof lines)[number],
    ];
    assert.equal(setpx.op, 'setpx');
    const db = await a.client();
    await db.del(set.key);
    await db.set(incr.key, 1);
    if (hset.op === 'hset') await db.hset(hset.key, hset.field, 'changed');
    if (rpush.op === 'rpush') await db.lrem(rpush.key, 0, rpush.value);
    // The longest-lived PX key: persistent now, which a migration must never make it.
    const longPx = lines.findLast((l) => l.op === 'setpx' && l.px > 60_000)!;
    await db.persist(longPx.key);
    const bad = await checkAcknowledged(report, a.url);
    assert.equal(bad.ok, false);
    const caught = new Set(bad.missing.map((m) => m.key));
    for (const key of [set.key, incr.key, hset.key, rpush.key, longPx.key])
      assert.ok(caught.has(key), `${key} not caught`);
    assert.match(bad.missing.find((m) => m.key === longPx.key)!.detail, /PTTL is -1/);
  });

  it('follows the repoint hook: rewritten endpoint file, killed connection, the same write retried', async () => {
    const endpointFile = join(dir, 'endpoint-2');
    writeEndpointFile(endpointFile, a.url);
    const control = await b.client();
    await (await a.client()).config('SET', 'repl-diskless-sync-delay', '0');
    await control.call('REPLICAOF', a.host, String(a.port));
    await control.config('SET', 'masterauth', 'app-harness-pw');
    await until('b to replicate a', async () =>
      /master_link_status:up/.test(await control.info('replication')),
    );
    const app = await startApp({ endpointFile, dir, prefix: 'app2:' });
    await sleep(500);

    // A hand-made cutover: pause writes, let b catch up, promote b, run the hook, kill a's clients.
    const src = await a.client();
    await src.call('CLIENT', 'PAUSE', '10000', 'WRITE');
    const pausedAt = performance.now();
    await until('b to catch up', async () => {
      const offset = (info: string, field: string) => Number(new RegExp(`${field}:(\\d+)`).exec(info)?.[1]);
      return (
        offset(await src.info('replication'), 'master_repl_offset') ===
        offset(await control.info('replication'), 'slave_repl_offset')
      );
    });
    await control.call('REPLICAOF', 'NO', 'ONE');
    const target = parseEndpointUrl(b.url, 'b');
    const outcome = await runCommandHook(
      { command: repointHookCommand(endpointFile), at: 'repoint', gated: false },
      {
        hook: 'repoint',
        point: 'repoint',
        migrationId: 'm-test',
        step: { id: 's1', kind: 'repoint', title: 'repoint' },
        strategy: 'replication',
        source: parseEndpointUrl(a.url, 'a'),
        target,
      },
    );
    assert.equal(outcome.ok, true, `${outcome.error} ${outcome.stderr}`);
    assert.equal(readEndpointFile(endpointFile), `redis://${b.host}:${b.port}/0`);
    await src.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await src.call('CLIENT', 'UNPAUSE');
    const pauseMs = performance.now() - pausedAt;
    await sleep(500);
    const report = await app.stop();

    assert.ok(report.byServer[`${a.host}:${a.port}`]! > 0);
    assert.ok(report.byServer[`${b.host}:${b.port}`]! > 0, JSON.stringify(report));
    assert.ok(report.errors >= 1, 'the killed connection was an error');
    // The write in flight during the pause waited for it: the app's longest wait is the pause.
    assert.ok(
      report.maxWaitMs >= Math.min(pauseMs, 50) * 0.5,
      `maxWait ${report.maxWaitMs}, pause ${pauseMs}`,
    );
    const check = await checkAcknowledged(report, b.url);
    assert.equal(check.ok, true, JSON.stringify(check.missing.slice(0, 5)));
    // The writes acknowledged by b are not on a: the checker is about the server it is given.
    const onA = await checkAcknowledged(report, a.url);
    assert.equal(onA.ok, false);
  });

  it('moves between writes when the endpoint file names another server, without an error', async () => {
    const endpointFile = join(dir, 'endpoint-4');
    writeEndpointFile(endpointFile, a.url);
    const app = await startApp({ endpointFile, dir, prefix: 'app4:', rate: 500 });
    await sleep(300);
    writeEndpointFile(endpointFile, b.url);
    await until(
      'the app to write to b',
      async () => (await (await b.client()).exists('app4:counter:1')) === 1,
    );
    const report = await app.stop();
    assert.equal(report.errors, 0, report.lastErrors.join('; '));
    assert.ok(report.byServer[`${a.host}:${a.port}`]! > 0 && report.byServer[`${b.host}:${b.port}`]! > 0);
    // Each write was acknowledged by the server it went to: the ones b acknowledged are on b.
    const lines = await readAckLog(report.logFile);
    const firstOnB = lines.findIndex((l) => l.server === `${b.host}:${b.port}`);
    assert.ok(
      lines.slice(firstOnB).every((l) => l.server === `${b.host}:${b.port}`),
      'it never went back',
    );
  });

  it('the repoint hook refuses to run without MB_TARGET_URL', async () => {
    const { spawnSync } = await import('node:child_process');
    const run = spawnSync('/bin/sh', ['-c', repointHookCommand(join(dir, 'endpoint-3'))], {
      env: { PATH: process.env['PATH'] },
      encoding: 'utf8',
    });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /MB_TARGET_URL is not set/);
  });
});
