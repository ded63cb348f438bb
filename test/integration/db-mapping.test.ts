// A database in the URLs selects and maps it: `copy .../3 .../5` moves db 3 into db 5 and touches
// no other database; verify compares db 3 with db 5; plan, migrate and every strategy follow the
// same mapping or refuse it. Data is checked with test/harness/compare.ts (plain ioredis reads).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { UnrecoverableStepError } from '../../src/runbook/errors.js';
import { compareSnapshots, type KeySnapshot, snapshotDb } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { copyStepExecutors } from '../harness/step-executors.js';
import { fillEveryType } from './copy-fixtures.js';
import { planFor } from './dump-restore-support/helpers.js';
import { RunbookHarness } from './replication-support.js';

function cli(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, LOG_LEVEL: 'silent', CONTROL_REDIS_URL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Differences between db `a` of one server and db `b` of another, both ways; empty when equal. */
async function compareDbs(x: Redis, a: number, y: Redis, b: number): Promise<string[]> {
  const [sx, sy] = [await snapshotDb(x, a), await snapshotDb(y, b)];
  return [...compareSnapshots(sx, sy, a), ...compareSnapshots(sy, sx, b)];
}

/** Every db's snapshot (0-15), without TTLs (which shrink between two reads). */
async function everyDb(c: Redis): Promise<Map<number, Map<string, unknown>>> {
  const out = new Map<number, Map<string, unknown>>();
  for (let db = 0; db < 16; db++) {
    const snap = await snapshotDb(c, db);
    if (snap.size === 0) continue;
    const plain = new Map<string, unknown>();
    for (const [k, v] of snap as Map<string, KeySnapshot>) plain.set(k, { type: v.type, value: v.value });
    out.set(db, plain);
  }
  return out;
}

describe('database mapping from the URLs', () => {
  let source: RedisServer;
  let src: Redis;

  before(async () => {
    source = await startRedis({ configLines: ['notify-keyspace-events KEA'] });
    src = await source.client();
    await src.select(3);
    await fillEveryType(src, 'three:');
    for (let i = 0; i < 300; i++) await src.set(`three:n:${i}`, `v${i}`);
    await src.select(0);
    await src.set('zero:only', 'must stay in db 0');
    await src.select(5);
    await src.set('five:source', 'the source db 5 is not copied');
    await src.select(0);
  });
  after(async () => {
    await source.stop();
  });

  test('copy /3 -> /5 moves exactly db 3 into db 5; verify /3 /5 compares them', async () => {
    const target = await startRedis();
    try {
      const tgt = await target.client();
      await tgt.select(0);
      await tgt.set('target:zero', 'untouched');
      await tgt.select(3);
      await tgt.set('target:three', 'untouched too');
      await tgt.select(0);
      const sourceBefore = await everyDb(src);
      const targetBefore = await everyDb(tgt);

      const copy = await cli(['copy', `${source.url}/3`, `${target.url}/5`]);
      assert.equal(copy.code, 0, copy.stdout + copy.stderr);
      assert.match(copy.stdout, /databases: db3 -> db5/);

      assert.deepEqual(await compareDbs(src, 3, tgt, 5), []);
      // Nothing else moved: the source is as it was, the target's other dbs too.
      assert.deepEqual(await everyDb(src), sourceBefore);
      const targetAfter = await everyDb(tgt);
      assert.deepEqual([...targetAfter.keys()].sort(), [0, 3, 5]);
      assert.deepEqual(targetAfter.get(0), targetBefore.get(0));
      assert.deepEqual(targetAfter.get(3), targetBefore.get(3));

      const same = await cli(['verify', `${source.url}/3`, `${target.url}/5`]);
      assert.equal(same.code, 0, same.stdout + same.stderr);
      assert.match(same.stdout, /IDENTICAL/);
      assert.match(same.stdout, /db3->5/);

      // A key only in target db 0 is outside the comparison; a changed key in db 5 is found.
      await tgt.select(0);
      await tgt.set('three:str:plain', 'only in db 0');
      await tgt.select(5);
      await tgt.set('three:str:plain', 'changed');
      await tgt.select(0);
      const changed = await cli([
        'verify',
        `${source.url}/3`,
        `${target.url}/5`,
        '--recheck-rounds',
        '0',
        '--json',
      ]);
      assert.equal(changed.code, 1, changed.stdout + changed.stderr);
      const report = JSON.parse(changed.stdout.trim().split('\n').at(-1)!) as {
        identical: boolean;
        differentKeys: number;
        differences: Record<string, { count: number; samples: { db: number; key: string }[] }>;
      };
      assert.equal(report.identical, false);
      assert.equal(report.differentKeys, 1);
      assert.equal(report.differences['value']!.count, 1);
      assert.equal(report.differences['value']!.samples[0]!.key, 'three:str:plain');

      // --flush-target empties the mapped target db only, then copies into it again.
      const flushed = await cli(['copy', `${source.url}/3`, `${target.url}/5`, '--flush-target', '--yes']);
      assert.equal(flushed.code, 0, flushed.stdout + flushed.stderr);
      assert.deepEqual(await compareDbs(src, 3, tgt, 5), []);
      const afterFlush = await everyDb(tgt);
      assert.equal(afterFlush.get(0)!.size, 2, 'target db 0 keeps its two keys');
      assert.deepEqual(afterFlush.get(3), targetBefore.get(3));
    } finally {
      await target.stop();
    }
  });

  test('--db with a database in a URL is refused, and so is a target-only database', async () => {
    const both = await cli([
      'copy',
      `${source.url}/3`,
      `${source.url.replace(/:\d+$/, ':1')}/5`,
      '--db',
      '3',
    ]);
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stderr, /--db conflicts with the database in the source URL \(\/3\)/);
    const verifyBoth = await cli(['verify', `${source.url}/3`, `${source.url}/5`, '--db', 'all']);
    assert.equal(verifyBoth.code, 2, verifyBoth.stderr);
    assert.match(verifyBoth.stderr, /--db conflicts/);
    const targetOnly = await cli(['plan', source.url, `${source.url}/5`]);
    assert.equal(targetOnly.code, 2, targetOnly.stderr);
    assert.match(targetOnly.stderr, /the target URL names database 5 but the source URL names none/);
  });

  test('plan: replication is refused with a mapping or a URL selection; /0 says which dbs are copied', async () => {
    const target = await startRedis();
    try {
      const remap = await cli(['plan', `${source.url}/3`, `${target.url}/5`, '--strategy', 'replication']);
      assert.equal(remap.code, 1, remap.stdout + remap.stderr);
      assert.match(remap.stdout, /cannot copy db 3 into db 5/);
      assert.match(remap.stdout, /Databases: db 3 -> db 5 only/);

      const zero = await cli(['plan', `${source.url}/0`, `${target.url}/0`]);
      assert.equal(zero.code, 0, zero.stdout + zero.stderr);
      assert.match(zero.stdout, /Databases: db 0 only, into the same number \(the database in the URL\)/);
      assert.match(zero.stdout, /ends in \/0, which selects db 0 only: db 3, 5 .* are not copied/);
      assert.match(zero.stdout, /replication copies every database: it cannot copy only db 0/);

      const every = await cli(['plan', source.url, target.url]);
      assert.equal(every.code, 0, every.stdout + every.stderr);
      assert.match(
        every.stdout,
        /Databases: every database with keys \(db 0, 3, 5\), each into the same number/,
      );
    } finally {
      await target.stop();
    }
  });

  test('copy exits 1 when the function libraries could not be copied', async () => {
    const target = await startRedis({ configLines: ['rename-command FUNCTION ""'] });
    const withLib = await startRedis();
    try {
      const c = await withLib.client();
      await c.set('k', 'v');
      await c.call(
        'FUNCTION',
        'LOAD',
        "#!lua name=mylib\nredis.register_function('myfn', function() return 1 end)",
      );
      const run = await cli(['copy', withLib.url, target.url]);
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.match(run.stderr, /function library was not copied \(the target has no functions support/);
      assert.match(run.stderr, /Give the target FUNCTION/);
      // The keys were copied all the same.
      assert.equal(await (await target.client()).get('k'), 'v');

      // The runbook's copy step too (migrate exits 1 when a step fails): the plan was made against
      // a target with FUNCTION (the planner blocks one without), the step runs against one without.
      const fine = await startRedis();
      try {
        const src = parseEndpointUrl(withLib.url, 'old');
        const plan = await planFor(src, parseEndpointUrl(fine.url, 'new'), { onNonEmptyTarget: 'replace' });
        assert.equal(plan.strategy, 'dump-restore', JSON.stringify(plan.blockers));
        const h = new RunbookHarness(
          plan,
          { source: src, target: parseEndpointUrl(target.url, 'new') },
          copyStepExecutors(),
        );
        const step = await h.run('bulk_copy');
        assert.ok(step.error instanceof UnrecoverableStepError, String(step.error));
        assert.match(step.error.message, /function library was not copied .*Give the target FUNCTION/);
      } finally {
        await fine.stop();
      }
    } finally {
      await Promise.all([target.stop(), withLib.stop()]);
    }
  });
});

describe('migrate with a database mapping (dump-restore, live sync)', () => {
  let control: RedisServer;
  let source: RedisServer;
  let target: RedisServer;

  before(async () => {
    [control, source, target] = await Promise.all([
      startRedis(),
      startRedis({ configLines: ['notify-keyspace-events KEA'] }),
      startRedis(),
    ]);
    const s = await source.client(3);
    await fillEveryType(s, 'm:');
    const pipe = s.pipeline();
    for (let i = 0; i < 1000; i++) pipe.set(`m:key:${i}`, `value-${i}`);
    await pipe.exec();
    await (await source.client(0)).set('db0:stays', 'x');
    await (await target.client(0)).set('target:db0', 'untouched');
  });
  after(async () => {
    await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
  });

  test('source /3 -> target /5 runs to the end; db 5 equals db 3, nothing else changes', async () => {
    const run = await cli(
      [
        'migrate',
        `${source.url}/3`,
        `${target.url}/5`,
        '--as',
        'UREQ',
        '--approve-as',
        'UBUDDY',
        '--confirm-as',
        'UBUDDY',
        '--strategy',
        'dump-restore',
      ],
      { CONTROL_REDIS_URL: control.url },
    );
    const out = run.stdout + run.stderr;
    assert.equal(run.code, 0, out);
    assert.match(run.stdout, /"Follow changes" succeeded/);
    assert.match(run.stdout, /"Final check and summary" succeeded: identical/);
    assert.match(run.stdout, /migration m[0-9a-z]+ succeeded/);
    const [s3, t5] = [await source.client(3), await target.client(5)];
    assert.deepEqual(await compareDbs(s3, 3, t5, 5), []);
    const tgt = await target.client();
    const dbs = await everyDb(tgt);
    assert.deepEqual([...dbs.keys()].sort(), [0, 5]);
    assert.equal(dbs.get(0)!.size, 1, 'target db 0 keeps only its own key');
    assert.equal(await (await target.client(3)).dbsize(), 0, 'nothing landed in target db 3');
  });
});
