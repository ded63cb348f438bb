// The copy CLI's verdict when the target is SIGKILLed mid-copy and restarted empty on the same port
// (issue #10: it used to exit 0 with "copied" and the lost keys missing): exit 0 only when verify
// and the independent reader of test/harness/compare.ts find every key on the target, else exit 1.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../harness/cli.js';
import { compareServers } from '../harness/compare.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { restartEmpty, seed } from './faults-support.js';

describe('copy CLI: the target restarts mid-copy', () => {
  let dir: string;
  const servers: RedisServer[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mb-faults-copy-cli-'));
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

  test('copy --checkpoint with the target SIGKILLed and restarted empty mid-copy', async (t) => {
    const source = await server();
    let target = await server();
    await seed(source, 100_000);
    const t0 = await target.client();
    const run = runCli(['copy', source.url, target.url, '--checkpoint', join(dir, 'cli.json'), '--replace']);
    let killedAt = 0;
    for (;;) {
      const n = await t0.dbsize().catch(() => 0);
      if (n >= 10_000) {
        killedAt = n;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    target = await restartEmpty(target);
    servers.push(target);
    const { code, stdout, stderr } = await run;
    t.diagnostic(`target killed at ${killedAt} keys; copy exited ${code}`);
    if (code === 0) {
      assert.match(stdout, /started over from the first key: the target .* restarted/, stdout);
      // Exit 0 only with every key there: verify says so, and so does the independent reader.
      const verified = await runCli(['verify', source.url, target.url]);
      assert.equal(verified.code, 0, verified.stdout + verified.stderr);
      assert.deepEqual((await compareServers(source, target, { dbs: [0] })).slice(0, 5), []);
    } else {
      assert.equal(code, 1, stdout + stderr);
    }
    assert.ok(killedAt >= 10_000);
  });
});
