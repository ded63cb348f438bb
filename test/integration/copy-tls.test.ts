import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { copyKeys } from '../../src/engine/copy/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { UserError } from '../../src/util/errors.js';
import { compareServers } from '../harness/compare.js';
import { freePort, type RedisServer, startRedis } from '../harness/redis-server.js';

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('copy over TLS', { skip: !haveOpenssl() && 'openssl not installed' }, () => {
  let dir: string;
  let source: RedisServer;
  let target: RedisServer;
  let tlsPort: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mb-copy-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    tlsPort = await freePort();
    source = await startRedis({ password: 'tls-src-pw' });
    await (await source.client()).set('over', 'tls');
    target = await startRedis({
      password: 'tls-dst-pw',
      configLines: [
        `tls-port ${tlsPort}`,
        `tls-cert-file ${join(dir, 'cert.pem')}`,
        `tls-key-file ${join(dir, 'key.pem')}`,
        `tls-ca-cert-file ${join(dir, 'cert.pem')}`,
        'tls-auth-clients no',
      ],
    });
  });
  after(async () => {
    await source?.stop();
    await target?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('copies to a TLS target verified with its CA', async () => {
    const endpoint = parseEndpointUrl(`rediss://:tls-dst-pw@127.0.0.1:${tlsPort}`, 'tls-target', {
      tls: { ca: join(dir, 'cert.pem') },
    });
    const report = await copyKeys(parseEndpointUrl(source.url), endpoint, {
      dbs: 'all',
      onNonEmptyTarget: 'refuse',
    });
    assert.equal(report.keysCopied, 1);
    assert.deepEqual(await compareServers(source, target), []);
  });

  test('an unknown certificate authority is refused, never skipped silently', async () => {
    const endpoint = parseEndpointUrl(`rediss://:tls-dst-pw@127.0.0.1:${tlsPort}`, 'tls-target');
    const err = await copyKeys(parseEndpointUrl(source.url), endpoint, {
      dbs: 'all',
      onNonEmptyTarget: 'replace',
    }).catch((e: unknown) => e);
    assert.ok(err instanceof UserError, String(err));
    assert.match(err.message, /TLS handshake with tls-target .* failed: .*self.signed/i);
    assert.doesNotMatch(err.message, /tls-dst-pw/);
  });
});
