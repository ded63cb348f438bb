// Every way a `migrate` run stops leaves the source as it was: notify-keyspace-events back to its
// original value, writes not paused, and the CLI gone within seconds with every connection closed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

interface Stage {
  name: string;
  /** Hook point of the failing hook. */
  at: string;
}

const STAGES: Stage[] = [
  { name: 'a hook fails while live sync runs', at: 'before_cutover' },
  { name: 'a hook fails under the write pause', at: 'after_repoint' },
];

function runMigrate(args: string[], timeoutMs: number) {
  return new Promise<{ code: number | null; out: string; ms: number; timedOut: boolean }>((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, LOG_LEVEL: 'silent', CONTROL_REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    let failedAt: number | undefined;
    let timedOut = false;
    const poll = setInterval(() => {
      if (failedAt === undefined && /failed/.test(out)) failedAt = Date.now();
      if (failedAt !== undefined && Date.now() - failedAt > timeoutMs) {
        timedOut = true;
        child.kill('SIGKILL');
      }
    }, 50);
    child.on('exit', (code) => {
      clearInterval(poll);
      resolve({ code, out, ms: failedAt ? Date.now() - failedAt : -1, timedOut });
    });
  });
}

describe('migrate: every stop restores the source', () => {
  let control: RedisServer;
  let dir: string;
  before(async () => {
    control = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'mb-stops-'));
  });
  after(async () => {
    await control?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const stage of STAGES) {
    it(stage.name, async () => {
      const [source, target] = await Promise.all([startRedis(), startRedis()]);
      try {
        const db = await source.client();
        const pipe = db.pipeline();
        for (let i = 0; i < 2000; i++) pipe.set(`key:${i}`, `value-${i}`);
        await pipe.exec();
        const config = join(dir, `${stage.at}.yml`);
        writeFileSync(
          config,
          `${[
            'endpoints:',
            `  src: { url: "${source.url}" }`,
            `  dst: { url: "${target.url}" }`,
            `control: { url: "${control.url}" }`,
            'hooks:',
            `  broken: { command: "exit 3", at: ${stage.at} }`,
          ].join('\n')}\n`,
        );
        const run = await runMigrate(
          [
            'migrate',
            'src',
            'dst',
            '-c',
            config,
            '--as',
            'UREQ',
            '--approve-as',
            'UBUDDY',
            '--confirm-as',
            'UBUDDY',
            '--strategy',
            'dump-restore',
          ],
          10_000,
        );
        assert.ok(!run.timedOut, `the CLI did not exit within 10 s of the failure:\n${run.out}`);
        assert.equal(run.code, 1, run.out);
        const tgt = await target.client();
        const names = async (c: typeof db) =>
          ((await c.client('LIST')) as string).split('\n').filter((l) => /name=migration-buddy/.test(l));
        assert.deepEqual(await names(db), []);
        assert.deepEqual(await names(tgt), []);
        assert.equal(((await db.config('GET', 'notify-keyspace-events')) as string[])[1], '');
        assert.equal(await db.set('probe:after', '1'), 'OK');
      } finally {
        await Promise.all([source.stop(), target.stop()]);
      }
    });
  }
});
