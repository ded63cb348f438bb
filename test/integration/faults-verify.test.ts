// The verify step against a source that is no longer the one the bulk copy read (issue #10), with
// the app writing to it: no verdict, but a failure that says what happened; the target is untouched.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { UnrecoverableStepError } from '../../src/runbook/errors.js';
import { startApp, writeEndpointFile } from '../harness/app/index.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { copyStepExecutors } from '../harness/step-executors.js';
import { planFor } from './dump-restore-support/helpers.js';
import { assertSeedIntact, seed } from './faults-support.js';
import { RunbookHarness } from './replication-support.js';

describe('verify: the source changed since the bulk copy', () => {
  let source: RedisServer;
  let target: RedisServer;
  let other: RedisServer;
  let dir: string;
  before(async () => {
    [source, target, other] = await Promise.all([startRedis(), startRedis(), startRedis()]);
    await seed(source, 3000);
    await (await other.client()).set('seed:1', 'from the other server');
    dir = mkdtempSync(join(tmpdir(), 'mb-faults-verify-'));
  });
  after(async () => {
    await (await source.client()).call('REPLICAOF', 'NO', 'ONE').catch(() => undefined);
    await Promise.all([source.stop(), target.stop(), other.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails without a verdict, naming the change, when the source became a replica', async () => {
    const src = parseEndpointUrl(source.url, 'old');
    const dst = parseEndpointUrl(target.url, 'new');
    const plan = await planFor(src, dst);
    const h = new RunbookHarness(plan, { source: src, target: dst }, copyStepExecutors());
    const endpointFile = join(dir, 'app.url');
    writeEndpointFile(endpointFile, `${source.url}/1`);
    const app = await startApp({ endpointFile, rate: 200, dir });
    try {
      const copied = await h.run('bulk_copy');
      assert.equal(copied.error, undefined, String(copied.error));
      assert.ok((h.step('bulk_copy').result?.identity as { source?: unknown })?.source);
      await (await source.client()).call('REPLICAOF', '127.0.0.1', String(other.port));
      const verified = await h.run('verify');
      assert.ok(verified.error instanceof UnrecoverableStepError, String(verified.error ?? 'verified'));
      assert.match(
        verified.error.message,
        new RegExp(
          `the source old .* became a replica of 127\\.0\\.0\\.1:${other.port} since the migration started`,
        ),
      );
      assert.match(verified.error.message, /no verdict was given/);
      await assertSeedIntact(target, 3000);
    } finally {
      await app.stop();
    }
  });
});
