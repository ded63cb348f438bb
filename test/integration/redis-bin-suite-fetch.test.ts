// Debian 13's servers on a machine without them: two callers at once into an empty scratch cache
// (as parallel test files are) fetch valkey-server once, both get the same tree, and the server
// runs from it. apt's trixie lists are shared with the project's cache, so only the packages are
// downloaded (about 9 MB). Skipped, saying why, only where no Debian archive can be reached.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RedisServerBinary } from '../../scripts/redis-bin/locate.js';
import { locateServer, ServerUnavailableError, suiteCacheDir } from '../../scripts/redis-bin/servers.js';
import { startRedis } from '../harness/redis-server.js';

test('valkey-8.1 is fetched once for concurrent callers into an empty cache, with every library it loads, and runs', async (t) => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'mb-suite-cache-'));
  t.after(() => rmSync(cacheDir, { recursive: true, force: true }));
  const progress: string[] = [];
  const options = {
    cacheDir,
    aptDir: join(suiteCacheDir, 'apt'),
    onProgress: (l: string) => progress.push(l),
  };
  let found: RedisServerBinary[];
  try {
    found = await Promise.all([locateServer('valkey-8.1', options), locateServer('valkey-8.1', options)]);
  } catch (err) {
    if (err instanceof ServerUnavailableError) {
      t.skip(err.message);
      return;
    }
    throw err;
  }
  const [a, b] = found as [RedisServerBinary, RedisServerBinary];
  assert.equal(progress.filter((l) => l.startsWith('apt-get download')).length, 1, progress.join('\n'));
  assert.deepEqual({ ...a, source: '' }, { ...b, source: '' });
  assert.deepEqual([a.source, b.source].sort(), ['cache', 'fetched']);
  assert.ok(a.path.startsWith(cacheDir), a.path);
  assert.match(a.version, /^8\.1\./);

  const tree = a.args![2]!.split('/usr/bin/')[0]!;
  const marker = JSON.parse(readFileSync(join(tree, 'fetched.json'), 'utf8')) as { contents: string[] };
  const names = marker.contents.map((c) => c.split('=')[0]);
  for (const lib of ['libc6', 'libssl3t64', 'libsystemd0', 'libjemalloc2', 'liblzf1', 'valkey-tools']) {
    assert.ok(names.includes(lib), `${lib} in ${names.join(' ')}`);
  }
  // Packages for all architectures (adduser, init-system-helpers) hold no libraries: left out.
  assert.ok(!names.includes('adduser') && !names.includes('init-system-helpers'), names.join(' '));

  const server = await startRedis({ binary: a });
  try {
    const info = await (await server.client()).info('server');
    assert.match(info, /^valkey_version:8\.1\./m);
    assert.ok(
      readFileSync(`/proc/${server.pid}/maps`, 'utf8').includes(
        join(tree, 'usr/lib/x86_64-linux-gnu/libc.so.6'),
      ),
    );
  } finally {
    await server.stop();
  }
});
