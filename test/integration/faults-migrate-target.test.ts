// A whole dump-restore migration (`migration-buddy migrate`) whose target restarts empty between
// the verification and the cutover (a before_cutover hook hands over to the test, which restarts
// it on the same port), with the app writing until the repoint (issue #10; the repoint hook hands
// over to the test too, which points the app at the target and stops it, so the final verification
// compares a target nobody writes to). The
// drain under the write pause sees the target's new run id and copies everything again, so the
// migration may succeed only with every seed key and every acknowledged write on the target.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type AppReport, checkAcknowledged, startApp, writeEndpointFile } from '../harness/app/index.js';
import { runCli } from '../harness/cli.js';
import { scriptedMigrateArgs, writeMigrateConfig } from '../harness/migrate-run.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { assertSeedIntact, restartEmpty, seed } from './faults-support.js';

const SEED = 5000;

const cli = (args: string[]) => runCli(args, { CONTROL_REDIS_URL: '' });

describe('migrate: the target restarts empty before the cutover', () => {
  let control: RedisServer;
  let source: RedisServer;
  let target: RedisServer;
  let dir: string;

  before(async () => {
    [control, source, target] = await Promise.all([
      startRedis(),
      startRedis({ configLines: ['notify-keyspace-events KEA'] }),
      startRedis(),
    ]);
    await seed(source, SEED);
    dir = mkdtempSync(join(tmpdir(), 'mb-faults-migrate-target-'));
  });

  after(async () => {
    await Promise.all([control?.stop(), source?.stop(), target?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies everything again under the pause; succeeds only with every key there', async () => {
    const endpointFile = join(dir, 'app.url');
    writeEndpointFile(endpointFile, source.url);
    const ask = join(dir, 'restart-now');
    const done = join(dir, 'restarted');
    const repointNow = join(dir, 'repoint-now');
    const appStopped = join(dir, 'app-stopped');
    const config = join(dir, 'config.yml');
    writeMigrateConfig(config, {
      source,
      target,
      control,
      hooks: {
        restart: {
          command: `touch ${ask}; while [ ! -f ${done} ]; do sleep 0.1; done`,
          at: 'before_cutover',
          timeout: '1m',
        },
        repoint: {
          command: `touch ${repointNow}; while [ ! -f ${appStopped} ]; do sleep 0.1; done`,
          at: 'repoint',
          timeout: '1m',
        },
      },
    });
    const app = await startApp({ endpointFile, rate: 300, dir });
    // The hook waits for this: SIGKILL the target and bring it back empty where it was.
    let restarted = false;
    const restarter = (async () => {
      const deadline = Date.now() + 120_000;
      while (!existsSync(ask)) {
        if (Date.now() > deadline) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      target = await restartEmpty(target);
      restarted = true;
      writeFileSync(done, '');
    })();
    // The repoint: the app moves to the target, then stops (its write blocked by the pause is
    // given up after the app's 10 s wait: never acknowledged, never checked).
    let report: AppReport | undefined;
    const repointer = (async () => {
      const deadline = Date.now() + 180_000;
      while (!existsSync(repointNow)) {
        if (Date.now() > deadline) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      writeEndpointFile(endpointFile, target.url);
      report = await app.stop();
      writeFileSync(appStopped, '');
    })();
    let run: Awaited<ReturnType<typeof cli>>;
    try {
      run = await cli(scriptedMigrateArgs(config, 'dump-restore'));
    } finally {
      writeFileSync(done, '');
      writeFileSync(appStopped, '');
      await restarter;
      await repointer;
      report ??= await app.stop();
    }
    const out = run.stdout + run.stderr;
    assert.ok(restarted, `the hook never asked for the restart: ${out}`);
    assert.equal(run.code, 0, out);
    assert.match(out, /migration m[0-9a-z]+ succeeded/);
    // Independent of the engine: the fixture and every acknowledged write are on the new target.
    await assertSeedIntact(target, SEED);
    const acked = await checkAcknowledged(report, target.url);
    assert.ok(acked.checked > 100, `${acked.checked} writes checked`);
    assert.ok(acked.ok, JSON.stringify(acked.missing.slice(0, 5)));
  });
});
