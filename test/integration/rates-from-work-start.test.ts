// Summary rates count from when the work starts: a person taking their time at the flush prompt
// (here a confirmation that answers after 1.5 s) is in neither copy's nor import's duration.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyKeys } from '../../src/engine/copy/index.js';
import { importRdbFile } from '../../src/engine/rdb-import/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

const PROMPT_MS = 1500;
const KEYS = 500;

/** A confirmation that takes PROMPT_MS, as a person would, and says yes. */
async function slowYes(): Promise<boolean> {
  await new Promise((resolve) => setTimeout(resolve, PROMPT_MS));
  return true;
}

describe('rates count from the start of the work, not from before the flush prompt', () => {
  let source: RedisServer;
  let target: RedisServer;
  let dir: string;

  before(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    const c = await source.client();
    const pipe = c.pipeline();
    for (let i = 0; i < KEYS; i++) pipe.set(`k:${i}`, `v-${i}`);
    await pipe.exec();
    dir = mkdtempSync(join(tmpdir(), 'mb-rates-'));
  });
  after(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('copy', async () => {
    await (await target.client()).set('old', 'x');
    const t0 = Date.now();
    const report = await copyKeys(parseEndpointUrl(source.url), parseEndpointUrl(target.url), {
      dbs: 'all',
      onNonEmptyTarget: 'flush',
      mode: 'auto',
      confirmFlush: slowYes,
    });
    const wall = Date.now() - t0;
    assert.ok(wall >= PROMPT_MS, `the prompt was waited for (${wall} ms)`);
    assert.equal(report.keysCopied, KEYS);
    // The prompt's time is not in the duration: what is left of the wall time is the copy's.
    assert.ok(report.durationMs <= wall - PROMPT_MS, `duration ${report.durationMs} ms of ${wall} ms`);
    assert.equal(report.keysPerSecond, Math.round((KEYS * 1000) / Math.max(1, report.durationMs)));
    assert.deepEqual(await compareServers(source, target), []);
  });

  it('import', async () => {
    const c = await source.client();
    await c.call('SAVE');
    const file = join(dir, 'source.rdb');
    copyFileSync(join(((await c.config('GET', 'dir')) as string[])[1]!, 'dump.rdb'), file);
    await (await target.client()).set('old', 'x');
    const t0 = Date.now();
    const report = await importRdbFile(file, parseEndpointUrl(target.url), {
      dbs: 'all',
      onNonEmptyTarget: 'flush',
      confirmFlush: slowYes,
    });
    const wall = Date.now() - t0;
    assert.ok(wall >= PROMPT_MS, `the prompt was waited for (${wall} ms)`);
    assert.equal(report.keysRestored, KEYS);
    assert.ok(report.durationMs <= wall - PROMPT_MS, `duration ${report.durationMs} ms of ${wall} ms`);
    assert.deepEqual(await compareServers(source, target), []);
  });
});
