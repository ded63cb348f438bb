// The fresh-machine path: no REDIS_SERVER_BIN, redis-server hidden from the PATH, an empty cache,
// and a system without Redis's libraries. The lookup fetches Debian's packages from the network
// (apt's package lists are kept in the project's .cache/redis/apt, so a second run is quick), and
// the server that then runs is checked from outside: /proc says which binary and libraries it mapped.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AptUnreachableError } from '../../scripts/redis-bin/debian-fetch.js';
import {
  defaultCacheDir,
  locateRedisServer,
  type RedisServerBinary,
} from '../../scripts/redis-bin/locate.js';
import { startRedis } from '../harness/redis-server.js';

test("with no redis-server found, Debian's package and the libraries the system lacks are fetched into the cache and run", async (t) => {
  if (!existsSync('/etc/debian_version')) {
    t.skip('not Debian or Ubuntu: there is no apt to fetch redis-server with');
    return;
  }
  const cacheDir = mkdtempSync(join(tmpdir(), 'mb-redis-cache-'));
  t.after(() => rmSync(cacheDir, { recursive: true, force: true }));
  const progress: string[] = [];
  const options = {
    env: { ...process.env, REDIS_SERVER_BIN: '' },
    skipPath: true,
    cacheDir,
    aptDir: join(defaultCacheDir, 'apt'),
    // As on a fresh machine: these libraries come from the cache, not from the system's /lib.
    assumeMissing: ['liblzf1', 'libjemalloc2'],
    onProgress: (line: string) => progress.push(line),
  };
  let binary: RedisServerBinary;
  try {
    binary = await locateRedisServer(options);
  } catch (err) {
    if (err instanceof AptUnreachableError) {
      t.skip(`apt cannot reach Debian's mirrors, so the fetch is untested here: ${err.message}`);
      return;
    }
    throw err;
  }
  assert.equal(binary.source, 'fetched');
  assert.ok(binary.path.startsWith(cacheDir), binary.path);
  assert.ok(
    progress.some((l) => /Get:\d+ .* redis-tools /.test(l)),
    `download progress shown:\n${progress.join('\n')}`,
  );
  const tree = realpathSync(join(binary.path, '..', '..', '..'));
  const marker = JSON.parse(readFileSync(join(tree, 'fetched.json'), 'utf8')) as { contents: string[] };
  const fetchedNames = marker.contents.map((c) => c.split('=')[0]).sort();
  assert.deepEqual(fetchedNames, ['libjemalloc2', 'liblzf1', 'redis-server', 'redis-tools']);

  const server = await startRedis({ binary });
  try {
    const c = await server.client();
    await c.set('fetched', 'yes');
    assert.equal(await c.get('fetched'), 'yes');
    const info = await c.info('server');
    assert.equal(/redis_version:(\S+)/.exec(info)?.[1], binary.version);
    // The kernel's view, not the lookup's: the executable and the two libraries come from the cache.
    assert.ok(
      realpathSync(`/proc/${server.pid}/exe`).startsWith(tree),
      realpathSync(`/proc/${server.pid}/exe`),
    );
    const maps = readFileSync(`/proc/${server.pid}/maps`, 'utf8');
    for (const lib of ['liblzf.so', 'libjemalloc.so']) {
      const mapped = maps
        .split('\n')
        .map((l) => l.split(/\s+/)[5] ?? '')
        .filter((p) => p.includes(lib));
      assert.ok(mapped.length > 0 && mapped.every((p) => p.startsWith(tree)), `${lib} mapped from ${mapped}`);
    }
  } finally {
    await server.stop();
  }

  // A second lookup uses the cache: no apt, no network.
  const before = progress.length;
  const again = await locateRedisServer(options);
  assert.deepEqual({ ...again, source: 'fetched' }, binary);
  assert.equal(again.source, 'cache');
  assert.equal(progress.length, before);
});
