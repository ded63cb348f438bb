// The psync engine reading a source over TLS with AUTH: the replication link and the lag monitor
// both verify the source's certificate; an unknown CA is refused, the password never shown.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PsyncReplica } from '../../src/engine/psync/index.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { compareServers } from '../harness/compare.js';
import { freePort, type RedisServer, startRedis } from '../harness/redis-server.js';
import { caughtUp, logger } from './psync-support/setup.js';

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('psync over TLS', { skip: !haveOpenssl() && 'openssl not installed' }, () => {
  let dir: string;
  let source: RedisServer;
  let target: RedisServer;
  let tlsPort: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mb-psync-tls-'));
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
    source = await startRedis({
      password: 'tls-src-pw',
      configLines: [
        `tls-port ${tlsPort}`,
        `tls-cert-file ${join(dir, 'cert.pem')}`,
        `tls-key-file ${join(dir, 'key.pem')}`,
        `tls-ca-cert-file ${join(dir, 'cert.pem')}`,
        'tls-auth-clients no',
        'tls-replication yes',
        'repl-diskless-sync-delay 0',
      ],
    });
    target = await startRedis();
  });
  after(async () => {
    await source?.stop();
    await target?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('full sync and stream from a TLS source verified with its CA', async () => {
    const c = await source.client();
    await c.set('over', 'tls');
    const replica = new PsyncReplica({
      source: parseEndpointUrl(`rediss://:tls-src-pw@127.0.0.1:${tlsPort}`, 'tls-source', {
        tls: { ca: join(dir, 'cert.pem') },
      }),
      target: parseEndpointUrl(target.url),
      mapping: { dbs: 'all' },
      logger,
    });
    await replica.start();
    await replica.rdbLoaded();
    await c.set('live', 'over tls');
    await caughtUp(replica);
    assert.deepEqual(await compareServers(source, target), []);
    await replica.stop();
  });

  test('an unknown certificate authority is refused, the password not shown', async () => {
    const replica = new PsyncReplica({
      source: parseEndpointUrl(`rediss://:tls-src-pw@127.0.0.1:${tlsPort}`, 'tls-source'),
      target: parseEndpointUrl(target.url),
      mapping: { dbs: 'all' },
      logger,
      onNonEmptyTarget: 'replace',
    });
    const err = await replica.start().then(
      () => null,
      (e: Error) => e,
    );
    assert.ok(err);
    assert.match(err.message, /TLS handshake with tls-source .* failed/i);
    assert.doesNotMatch(err.message, /tls-src-pw/);
  });
});
