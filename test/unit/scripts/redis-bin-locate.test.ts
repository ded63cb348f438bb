// The lookup order with the real redis-server linked into scratch directories: REDIS_SERVER_BIN,
// then the PATH, then the cache; what it says when none is there. The fetch itself is tested in
// test/integration/redis-bin-fetch.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  locateRedisServer,
  type RedisServerBinary,
  redisServerBinary,
} from '../../../scripts/redis-bin/locate.js';

let real: RedisServerBinary;
let dir: string;
const progress: string[] = [];
const quiet = { onProgress: (line: string) => progress.push(line) };

before(async () => {
  real = await redisServerBinary();
  // A cached copy needs its libraries for the links below too.
  if (real.env['LD_LIBRARY_PATH']) process.env['LD_LIBRARY_PATH'] = real.env['LD_LIBRARY_PATH'];
  dir = mkdtempSync(join(tmpdir(), 'mb-locate-'));
  for (const sub of ['explicit', 'on-path', 'empty']) {
    mkdirSync(join(dir, sub));
    if (sub !== 'empty') symlinkSync(real.path, join(dir, sub, 'redis-server'));
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

function cacheTree(cacheDir: string, name: string, binary: string, marker = true): string {
  const tree = join(cacheDir, name);
  mkdirSync(join(tree, 'usr', 'bin'), { recursive: true });
  mkdirSync(join(tree, 'usr', 'lib', 'x86_64-linux-gnu'), { recursive: true });
  symlinkSync(binary, join(tree, 'usr', 'bin', 'redis-server'));
  if (marker) {
    const fetched = {
      package: 'redis-server',
      version: '9:1.0-1',
      contents: ['redis-server=9:1.0-1'],
      libraryPath: ['usr/lib/x86_64-linux-gnu'],
      sources: { list: '/etc/apt/sources.list', parts: '/etc/apt/sources.list.d' },
      fetchedAt: new Date().toISOString(),
    };
    writeFileSync(join(tree, 'fetched.json'), JSON.stringify(fetched));
  }
  return tree;
}

test('REDIS_SERVER_BIN wins over the PATH, and the PATH over the cache', async () => {
  const explicit = join(dir, 'explicit', 'redis-server');
  const fromEnv = await locateRedisServer({
    ...quiet,
    env: { REDIS_SERVER_BIN: explicit, PATH: join(dir, 'on-path') },
  });
  assert.deepEqual(fromEnv, { path: explicit, env: {}, version: real.version, source: 'REDIS_SERVER_BIN' });
  const fromPath = await locateRedisServer({
    ...quiet,
    env: { PATH: [join(dir, 'empty'), join(dir, 'on-path')].join(':') },
    cacheDir: join(dir, 'no-cache'),
  });
  assert.deepEqual(fromPath, {
    path: join(dir, 'on-path', 'redis-server'),
    env: {},
    version: real.version,
    source: 'PATH',
  });
});

test('a REDIS_SERVER_BIN that points nowhere, or at no Redis, is an error, not a reason to look elsewhere', async () => {
  await assert.rejects(
    locateRedisServer({ ...quiet, env: { REDIS_SERVER_BIN: process.execPath, PATH: join(dir, 'on-path') } }),
    /\(from REDIS_SERVER_BIN\) is not a working redis-server: v\d+.*; point REDIS_SERVER_BIN at a working one$/,
  );
  await assert.rejects(
    locateRedisServer({
      ...quiet,
      env: { REDIS_SERVER_BIN: join(dir, 'nowhere'), PATH: join(dir, 'on-path') },
    }),
    /REDIS_SERVER_BIN=.*nowhere is not an executable file: point it at a redis-server binary, or unset it/,
  );
});

test('without one on the PATH the newest finished tree in the cache runs, with its libraries', async () => {
  const cacheDir = join(dir, 'cache');
  cacheTree(cacheDir, 'redis-server_0-unfinished', process.execPath, false);
  const tree = cacheTree(cacheDir, 'redis-server_9%3a1.0-1', real.path);
  const found = await locateRedisServer({
    ...quiet,
    env: { PATH: join(dir, 'on-path') },
    skipPath: true,
    cacheDir,
    canFetch: false,
  });
  assert.equal(found.source, 'cache');
  assert.equal(found.path, join(tree, 'usr', 'bin', 'redis-server'));
  assert.equal(found.version, real.version);
  assert.equal(found.env['LD_LIBRARY_PATH'], join(tree, 'usr', 'lib', 'x86_64-linux-gnu'));
});

test('a cached copy that does not run says so and how to get a fresh one', async () => {
  const cacheDir = join(dir, 'broken-cache');
  const tree = cacheTree(cacheDir, 'redis-server_9%3a1.0-1', process.execPath); // node, not Redis
  await assert.rejects(
    locateRedisServer({ ...quiet, env: { PATH: '' }, skipPath: true, cacheDir, canFetch: false }),
    (err: Error) => {
      assert.match(err.message, /redis-server \(from cache\) is not a working redis-server: v\d+/);
      assert.ok(err.message.endsWith(`delete ${tree} to fetch it again`), err.message);
      return true;
    },
  );
});

test('with nothing found where no fetch is possible, one line says how to install Redis', async () => {
  await assert.rejects(
    locateRedisServer({
      ...quiet,
      env: { PATH: join(dir, 'empty') },
      cacheDir: join(dir, 'empty-cache'),
      canFetch: false,
    }),
    (err: Error) => {
      assert.match(
        err.message,
        /^redis-server not found .* install Redis \(macOS: brew install redis\) or set REDIS_SERVER_BIN$/,
      );
      assert.ok(!err.message.includes('\n'));
      return true;
    },
  );
  assert.deepEqual(progress, []);
});
