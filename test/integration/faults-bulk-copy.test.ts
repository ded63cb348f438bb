// The runbook's bulk_copy step (checkpoint kept with the step) resumed after the target restarted
// empty (issue #10), with the app writing to the source (db 1): the step starts over instead of
// trusting its checkpoint, says so, and succeeds only with every fixture key on the target.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { startApp, writeEndpointFile } from '../harness/app/index.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { copyStepExecutors } from '../harness/step-executors.js';
import { planFor } from './dump-restore-support/helpers.js';
import { restartEmpty, seed } from './faults-support.js';
import { RunbookHarness } from './replication-support.js';

describe('bulk_copy: resumed after the target restarted empty', () => {
  let source: RedisServer;
  let target: RedisServer;
  let dir: string;
  before(async () => {
    [source, target] = await Promise.all([startRedis(), startRedis()]);
    await seed(source, 40_000);
    dir = mkdtempSync(join(tmpdir(), 'mb-faults-bulk-'));
  });
  after(async () => {
    await Promise.all([source.stop(), target.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts over from the first key and succeeds with every key there', async () => {
    const src = parseEndpointUrl(source.url, 'old');
    const dst = parseEndpointUrl(target.url, 'new');
    const plan = await planFor(src, dst);
    const h = new RunbookHarness(plan, { source: src, target: dst }, copyStepExecutors());
    const endpointFile = join(dir, 'app.url');
    writeEndpointFile(endpointFile, `${source.url}/1`);
    const app = await startApp({ endpointFile, rate: 200, dir });
    try {
      // Stopped part way (as for a worker shutdown): the checkpoint stays with the step.
      const first = await h.run('bulk_copy', {
        onCheckpoint: (cp) =>
          ((cp as { counters?: { keysCopied: number } }).counters?.keysCopied ?? 0) >= 5000
            ? 'shutdown'
            : undefined,
      });
      assert.ok(first.error, 'the first run was stopped part way');
      assert.ok(h.checkpoints.get(h.step('bulk_copy').id), 'a checkpoint was kept');
      target = await restartEmpty(target);
      const second = await h.run('bulk_copy');
      assert.equal(second.error, undefined, String(second.error));
      assert.match(
        second.outcome!.summary,
        /started over from the first key: the target new .* restarted .* since the checkpoint was saved/,
      );
      const result = h.step('bulk_copy').result as { restarts: string[]; keysCopied: number };
      assert.equal(result.restarts.length, 1);
      assert.deepEqual((await compareServers(source, target, { dbs: [0] })).slice(0, 5), []);
    } finally {
      await app.stop();
    }
  });
});
