// The three servers the compatibility tests start by name: each answers with its own version, the
// PID the harness stops is the server's, and Debian 13's run on Debian 13's C library from the
// cache (the kernel's view in /proc, not the harness's).
import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import { test } from 'node:test';
import { expectedVersion, SERVER_NAMES, suiteCacheDir } from '../../scripts/redis-bin/servers.js';
import { serverUnavailable, startRedis } from '../harness/redis-server.js';

for (const name of SERVER_NAMES) {
  const missing = await serverUnavailable(name);
  test(`${name} starts, reports version ${expectedVersion(name)} and is stopped by its PID`, {
    skip: missing,
  }, async () => {
    const server = await startRedis({ server: name });
    let stopped = false;
    try {
      const c = await server.client();
      const info = await c.info('server');
      const field = name.startsWith('valkey') ? 'valkey_version' : 'redis_version';
      const version = new RegExp(`^${field}:(\\S+)`, 'm').exec(info)?.[1];
      assert.ok(version?.startsWith(`${expectedVersion(name)}.`), `${field}:${version}`);
      if (name.startsWith('valkey')) assert.match(info, /^server_name:valkey/m);
      assert.equal(Number(/^process_id:(\d+)/m.exec(info)?.[1]), server.pid);
      await c.set('k', 'v');
      assert.equal(await c.get('k'), 'v');
      if (name !== 'redis-7.0') {
        const tree = realpathSync(suiteCacheDir);
        assert.ok(
          realpathSync(`/proc/${server.pid}/exe`).startsWith(tree),
          realpathSync(`/proc/${server.pid}/exe`),
        );
        const libs = readFileSync(`/proc/${server.pid}/maps`, 'utf8')
          .split('\n')
          .map((l) => l.split(/\s+/)[5] ?? '')
          .filter((p) => /\.so[.\d]*$/.test(p));
        assert.ok(
          libs.some((p) => p.includes('/libc.so.6')),
          libs.join('\n'),
        );
        assert.deepEqual(
          libs.filter((p) => !p.startsWith(tree)),
          [],
          'every library the server mapped comes from the cached tree',
        );
      }
      await server.stop();
      stopped = true;
      assert.throws(() => process.kill(server.pid, 0), /ESRCH/);
    } finally {
      if (!stopped) await server.stop();
    }
  });
}
