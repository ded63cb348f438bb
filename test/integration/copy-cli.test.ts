import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compareServers } from '../harness/compare.js';
import { freePort, type RedisServer, startRedis } from '../harness/redis-server.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const main = join(root, 'src/cli/main.ts');

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function cli(args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolveDone) => {
    child.on('exit', (code, signal) => resolveDone({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

async function fillMixed(server: RedisServer, n: number): Promise<void> {
  const c = await server.client();
  for (let i = 0; i < n; i += 1000) {
    const p = c.pipeline();
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      const key = `k:${j}`;
      if (j % 10 < 6) p.set(key, `value-${j}-${'x'.repeat(60)}`);
      else if (j % 10 < 8) p.hset(key, 'a', String(j), 'b', 'bee', 'c', 'sea');
      else if (j % 10 < 9) p.rpush(key, 'x', 'y', String(j));
      else p.zadd(key, j, 'm1', -j, 'm2');
      if (j % 3 === 0) p.pexpire(key, 3_600_000);
    }
    await p.exec();
  }
}

describe('copy CLI', () => {
  let dir: string;
  let source: RedisServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mb-copy-cli-'));
    source = await startRedis();
    await fillMixed(source, 50_000);
  });
  after(async () => {
    await source.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('killed mid-run with SIGKILL, the same command resumes and the target equals the source', async () => {
    const target = await startRedis();
    try {
      const checkpoint = join(dir, 'resume.json');
      const args = ['copy', source.url, target.url, '--checkpoint', checkpoint, '--batch-size', '100'];
      const first = cli(args);
      // Kill it once the checkpoint shows real progress, and well before the end.
      let copiedAtKill = 0;
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        if (existsSync(checkpoint)) {
          try {
            copiedAtKill = JSON.parse(readFileSync(checkpoint, 'utf8')).counters.keysCopied;
          } catch {
            // being replaced right now
          }
          if (copiedAtKill >= 3000) break;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      first.child.kill('SIGKILL');
      const killed = await first.done;
      assert.equal(killed.signal, 'SIGKILL');
      const saved = JSON.parse(readFileSync(checkpoint, 'utf8'));
      assert.equal(saved.complete, false, 'the first run must be killed before it finished');
      assert.ok(saved.counters.keysCopied < 50_000);

      const second = await cli(args).done;
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /resumed from checkpoint/);
      assert.deepEqual(await compareServers(source, target), []);
      assert.equal(JSON.parse(readFileSync(checkpoint, 'utf8')).complete, true);

      // Running it again is a no-op that says so.
      const third = await cli([...args, '--json']).done;
      assert.equal(third.code, 0, third.stderr);
      const last = JSON.parse(third.stdout);
      assert.equal(last.event, 'report');
      assert.equal(last.complete, true);
    } finally {
      await target.stop();
    }
  });

  test('refuses a non-empty target (exit 1), --flush-target needs --yes without a terminal (exit 2)', async () => {
    const target = await startRedis();
    try {
      const tc = await target.client();
      await tc.set('k:1', 'old');
      await tc.set('stray', 'x');
      const refused = await cli(['copy', source.url, target.url]).done;
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /is not empty: db0 has 2 keys/);

      const noYes = await cli(['copy', source.url, target.url, '--flush-target']).done;
      assert.equal(noYes.code, 2);
      assert.match(noYes.stderr, /--flush-target deletes data on the target: add --yes/);
      assert.equal(await tc.get('stray'), 'x');

      const both = await cli(['copy', source.url, target.url, '--flush-target', '--replace', '--yes']).done;
      assert.equal(both.code, 2);

      const flushed = await cli([
        'copy',
        source.url,
        target.url,
        '--flush-target',
        '--yes',
        '--json',
        '--progress',
        'json',
      ]).done;
      assert.equal(flushed.code, 0, flushed.stderr);
      // stdout is the report alone; the progress is NDJSON on stderr.
      const report = JSON.parse(flushed.stdout);
      const progress = flushed.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      assert.ok(progress.length > 0 && progress.every((l) => l.event === 'progress'), flushed.stderr);
      assert.equal(report.event, 'report');
      assert.equal(report.keysCopied, 50_000);
      assert.deepEqual(await compareServers(source, target), []);
    } finally {
      await target.stop();
    }
  });

  test('--replace overwrites and keeps unrelated target keys', async () => {
    const target = await startRedis();
    try {
      const tc = await target.client();
      await tc.set('k:1', 'old');
      await tc.set('stray', 'x');
      const run = await cli(['copy', source.url, target.url, '--replace', '--db', '0']).done;
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /copied 50,000 keys/);
      assert.equal(await tc.get('stray'), 'x');
      assert.equal(await tc.get('k:1'), `value-1-${'x'.repeat(60)}`);
    } finally {
      await target.stop();
    }
  });

  test('an unreachable target exits 2 with a message naming it', async () => {
    const port = await freePort();
    const run = await cli(['copy', source.url, `redis://127.0.0.1:${port}`, '--json']).done;
    assert.equal(run.code, 2);
    const out = JSON.parse(run.stdout);
    assert.match(out.error, /cannot reach .*connection refused/);
    assert.equal(out.exitCode, 2);
  });

  test('bad options exit 2', async () => {
    const badDb = await cli(['copy', source.url, source.url, '--db', 'zero']).done;
    assert.equal(badDb.code, 2);
    assert.match(badDb.stderr, /--db must be "all" or database numbers/);
    const badSize = await cli(['copy', source.url, source.url, '--big-key-threshold', 'lots']).done;
    assert.equal(badSize.code, 2);
    assert.match(badSize.stderr, /--big-key-threshold must be a size/);
  });
});
