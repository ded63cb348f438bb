// Named servers without a fetch: what each name expects to report, and what is said when a
// Debian 13 server is neither cached nor fetchable. The fetch itself: test/integration/redis-bin-suite-fetch.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { expectedVersion, locateServer, ServerUnavailableError } from '../../../scripts/redis-bin/servers.js';

test('each name says the major.minor its server reports', () => {
  assert.equal(expectedVersion('redis-7.0'), '7.0');
  assert.equal(expectedVersion('redis-8.0'), '8.0');
  assert.equal(expectedVersion('valkey-8.1'), '8.1');
});

test('a Debian 13 server neither cached nor fetchable is unavailable, saying where it was looked for', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'mb-servers-'));
  try {
    await assert.rejects(
      locateServer('redis-8.0', { cacheDir, canFetch: false, onProgress: () => {} }),
      (err: Error) =>
        err instanceof ServerUnavailableError &&
        err.message.includes(`redis-8.0 is not in ${cacheDir}`) &&
        /no apt to fetch Debian trixie's redis-server/.test(err.message),
    );
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});
