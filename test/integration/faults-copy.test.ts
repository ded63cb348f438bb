// Source and target faults during a copy (issue #10): a copy says "copied" only when the keys are
// really on the target. The target restarting empty makes it start over; the source restarting or
// turning into a replica stops it with exit 1. The app writes to the source (db 1) throughout; the
// fixture (db 0) is compared with the independent reader of test/harness/compare.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type CopyReport,
  CopyStoppedError,
  copyKeys,
  fileCheckpointStore,
} from '../../src/engine/copy/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { type AppHandle, startApp, writeEndpointFile } from '../harness/app/index.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { restartEmpty } from './faults-support.js';

const KEYS = 100_000;
/**
 * The fault is injected at the first progress report that shows this many keys: progress comes
 * about every 250 ms, so well before the end of a 100,000-key copy even on a fast machine.
 */
const FAULT_AT = 2000;

async function fill(server: RedisServer, n: number): Promise<void> {
  const c = await server.client();
  for (let i = 0; i < n; i += 2000) {
    const p = c.pipeline();
    for (let j = i; j < Math.min(n, i + 2000); j++) {
      if (j % 10 === 0) p.hset(`h:${j}`, 'a', String(j), 'b', 'x'.repeat(j % 50));
      else p.set(`key:${j}`, `v${j}:${'y'.repeat(j % 80)}`);
    }
    await p.exec();
  }
}

async function withApp(source: RedisServer, dir: string): Promise<AppHandle> {
  const file = join(dir, `app-${Date.now()}.url`);
  writeEndpointFile(file, `${source.url}/1`);
  return startApp({ endpointFile: file, rate: 500, dir });
}

describe('copy: source and target faults', () => {
  let dir: string;
  const servers: RedisServer[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mb-faults-copy-'));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });
  const server = async () => {
    const s = await startRedis();
    servers.push(s);
    return s;
  };

  test('the target restarted empty mid-copy: the copy starts over and every key is there', async () => {
    const source = await server();
    let target = await server();
    await fill(source, KEYS);
    const app = await withApp(source, dir);
    let restarting: Promise<RedisServer> | undefined;
    let report: CopyReport;
    try {
      report = await copyKeys(parseEndpointUrl(source.url, 'old'), parseEndpointUrl(target.url, 'new'), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
        batchSize: 200,
        checkpoint: fileCheckpointStore(join(dir, 'restart.json')),
        onProgress: (p) => {
          if (!restarting && p.keysCopied >= FAULT_AT) restarting = restartEmpty(target);
        },
      });
    } finally {
      await app.stop();
    }
    assert.ok(restarting, 'the target was restarted during the copy');
    target = await restarting;
    servers.push(target);
    assert.equal(report.complete, true);
    assert.equal(report.restarts?.length, 1, JSON.stringify(report.restarts));
    assert.match(report.restarts![0]!, /the target new .* restarted \(run_id/);
    // Independent of the engine: the whole fixture is on the new target.
    assert.deepEqual(await compareServers(source, target, { dbs: [0] }), []);
  });

  test('a resume against a target that restarted empty since the checkpoint starts over', async () => {
    const source = await server();
    let target = await server();
    await fill(source, KEYS);
    const file = join(dir, 'resume.json');
    const options = () => ({
      dbs: [0],
      onNonEmptyTarget: 'refuse' as const,
      batchSize: 200,
      checkpoint: fileCheckpointStore(file),
    });
    const stop = new AbortController();
    const first = await copyKeys(parseEndpointUrl(source.url, 'old'), parseEndpointUrl(target.url, 'new'), {
      ...options(),
      signal: stop.signal,
      onProgress: (p) => {
        if (p.keysCopied >= FAULT_AT) stop.abort();
      },
    });
    assert.equal(first.complete, false);
    target = await restartEmpty(target);
    servers.push(target);
    const second = await copyKeys(
      parseEndpointUrl(source.url, 'old'),
      parseEndpointUrl(target.url, 'new'),
      options(),
    );
    assert.equal(second.complete, true);
    assert.equal(second.restarts?.length, 1);
    assert.match(second.restarts![0]!, /since the checkpoint was saved/);
    assert.deepEqual(await compareServers(source, target, { dbs: [0] }), []);

    // A finished checkpoint is not trusted either once the target lost everything.
    target = await restartEmpty(target);
    servers.push(target);
    const third = await copyKeys(
      parseEndpointUrl(source.url, 'old'),
      parseEndpointUrl(target.url, 'new'),
      options(),
    );
    assert.equal(third.complete, true);
    assert.equal(third.restarts?.length, 2);
    assert.deepEqual(await compareServers(source, target, { dbs: [0] }), []);
  });

  test('the source restarted mid-copy: the copy stops with exit 1 and says so', async () => {
    let source = await server();
    const target = await server();
    await fill(source, KEYS);
    let restarting: Promise<RedisServer> | undefined;
    const err = await copyKeys(parseEndpointUrl(source.url, 'old'), parseEndpointUrl(target.url, 'new'), {
      dbs: [0],
      onNonEmptyTarget: 'refuse',
      batchSize: 200,
      onProgress: (p) => {
        if (!restarting && p.keysCopied >= FAULT_AT) restarting = restartEmpty(source);
      },
    }).catch((e: unknown) => e);
    source = await restarting!;
    servers.push(source);
    assert.ok(err instanceof CopyStoppedError, String(err));
    assert.equal(err.exitCode, 1);
    assert.match(err.message, /the source old .* restarted \(run_id .*\) and holds 0 keys/);
    assert.match(err.message, /nothing more was copied; the target keeps/);
    assert.equal(err.report.complete, false);
  });

  test('the source was flushed mid-copy: the copy stops with exit 1 instead of calling it copied', async () => {
    const source = await server();
    const target = await server();
    await fill(source, KEYS);
    let flushed = false;
    const err = await copyKeys(parseEndpointUrl(source.url, 'old'), parseEndpointUrl(target.url, 'new'), {
      dbs: [0],
      onNonEmptyTarget: 'refuse',
      batchSize: 200,
      onProgress: (p) => {
        if (!flushed && p.keysCopied >= FAULT_AT) {
          flushed = true;
          void source.client().then((c) => c.flushall());
        }
      },
    }).catch((e: unknown) => e);
    assert.ok(err instanceof CopyStoppedError, String(err));
    assert.equal(err.exitCode, 1);
    assert.match(err.message, /the source old .* lost most of its data: 0 keys left of 100000 \(flushed\?\)/);
    assert.match(err.message, /the target keeps the \d+ keys copied so far/);
  });

  test('the source became a replica mid-copy: the copy stops with exit 1 and never says copied', async () => {
    const source = await server();
    const target = await server();
    const other = await server();
    await fill(source, KEYS);
    await (await other.client()).set('other', 'data');
    const app = await withApp(source, dir);
    let turned = false;
    let err: unknown;
    try {
      err = await copyKeys(parseEndpointUrl(source.url, 'old'), parseEndpointUrl(target.url, 'new'), {
        dbs: 'all',
        onNonEmptyTarget: 'refuse',
        batchSize: 200,
        onProgress: (p) => {
          if (!turned && p.keysCopied >= FAULT_AT) {
            turned = true;
            void source.client().then((c) => c.call('REPLICAOF', '127.0.0.1', String(other.port)));
          }
        },
      }).catch((e: unknown) => e);
    } finally {
      await app.stop();
      await (await source.client()).call('REPLICAOF', 'NO', 'ONE');
    }
    assert.ok(err instanceof CopyStoppedError, String(err));
    assert.equal(err.exitCode, 1);
    assert.match(
      err.message,
      new RegExp(`the source old .* became a replica of 127\\.0\\.0\\.1:${other.port}`),
    );
  });
});
