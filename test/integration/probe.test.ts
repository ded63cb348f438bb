// The probe against real redis-server processes: a plain server, one with renamed commands, one
// with a password, one with limited ACL users. Also checks that probing changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { probeEndpoint, probeWith } from '../../src/probe/probe.js';
import { rdbVersionForServer } from '../../src/probe/rdb-version.js';
import { PROBED_COMMANDS, type ProbeResult } from '../../src/probe/types.js';
import { connect } from '../../src/redis/connect.js';
import { parseEndpointUrl } from '../../src/redis/endpoint.js';
import { UserError } from '../../src/util/errors.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';

const UNKNOWN = 'unknown command (renamed or disabled)';

/** Everything a probe must leave as it was: keys and values, TTL presence, config, functions, ACLs. */
async function snapshot(server: RedisServer): Promise<Record<string, unknown>> {
  const c = await server.client(0);
  // avg_ttl moves on its own as time passes; keys and expires must not.
  const keyspace = (await c.info('keyspace')).trim().replace(/,avg_ttl=\d+/g, '');
  const dbs = [...keyspace.matchAll(/^db(\d+):/gm)].map((m) => Number(m[1]));
  const values: Record<string, string> = {};
  for (const db of dbs) {
    const dbc = await server.client(db);
    let cursor = '0';
    do {
      const [next, keys] = await dbc.scanBuffer(cursor, 'COUNT', 500);
      cursor = next.toString();
      for (const key of keys) {
        const [dump, pttl] = await Promise.all([dbc.dumpBuffer(key), dbc.pttl(key)]);
        values[`${db}/${key.toString('hex')}`] = `${dump?.toString('hex')}/${pttl > 0 ? 'ttl' : pttl}`;
      }
    } while (cursor !== '0');
  }
  const safe = async (f: () => Promise<unknown>) => f().catch((err: Error) => `error: ${err.message}`);
  return {
    keyspace,
    values,
    config: await safe(async () => {
      const flat = (await c.call('CONFIG', 'GET', '*')) as string[];
      const pairs: string[] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push(`${flat[i]}=${flat[i + 1]}`);
      return pairs.sort();
    }),
    functions: await safe(async () => ((await c.callBuffer('FUNCTION', 'DUMP')) as Buffer).toString('hex')),
    acl: await safe(() => c.call('ACL', 'LIST')),
    aclLog: await safe(() => c.call('ACL', 'LOG')),
    role: (await c.info('replication')).match(/^role:(\w+)/m)?.[1],
  };
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`never happened: ${what}`);
}

function unavailable(result: ProbeResult): string[] {
  return PROBED_COMMANDS.filter((c) => !result.commands[c].available);
}

describe('probe of a plain server', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis({
      configLines: ['notify-keyspace-events KEA', 'maxmemory 64mb', 'maxmemory-policy allkeys-lru'],
    });
    const db0 = await server.client(0);
    const p0 = db0.pipeline();
    for (let i = 0; i < 200; i++) {
      if (i < 50) p0.set(`user:${i}`, `value-${i}`, 'EX', 3600);
      else p0.set(`user:${i}`, `value-${i}`);
    }
    await p0.exec();
    const db3 = await server.client(3);
    const p3 = db3.pipeline();
    for (let i = 0; i < 100; i++) {
      if (i % 3 === 0) p3.hset(`small:hash:${i}`, 'a', '1', 'b', '2');
      else if (i % 3 === 1) p3.rpush(`small:list:${i}`, 'x', 'y');
      else p3.set(`small:str:${i}`, 'z', 'EX', 600);
    }
    // The deliberately big key: 5,000 fields, far more bytes than any other key.
    const fields: string[] = [];
    for (let i = 0; i < 5000; i++) fields.push(`field-${i}`, `some value number ${i}`);
    p3.hset('big:hash', ...fields);
    p3.set(Buffer.from([0xff, 0xfe, 0x00, 0x41]), 'binary key');
    await p3.exec();
    await db0.call(
      'FUNCTION',
      'LOAD',
      "#!lua name=probelib\nredis.register_function('probe_one', function(keys, args) return 1 end)",
    );
  });
  after(() => server?.stop());

  it('reports version, RDB format, role, databases, memory, settings and functions', async () => {
    const r = await probeEndpoint(parseEndpointUrl(server.url, 'plain'));
    assert.equal(r.endpoint.name, 'plain');
    assert.match(r.server.version, /^\d+\.\d+\.\d+$/);
    assert.equal(r.server.flavor, 'redis');
    assert.equal(r.server.mode, 'standalone');
    assert.equal(r.server.rdbVersionSource, 'dump');
    assert.equal(r.server.rdbVersion, rdbVersionForServer(r.server.version));
    assert.equal(r.replication.role, 'master');
    assert.equal(r.replication.connectedReplicas, 0);
    assert.deepEqual(
      r.databases.map(({ db, keys, expires }) => ({ db, keys, expires })),
      [
        { db: 0, keys: 200, expires: 50 },
        { db: 3, keys: 102, expires: 33 },
      ],
    );
    assert.equal(r.totalKeys, 302);
    assert.equal(r.totalExpires, 83);
    assert.equal(r.configuredDatabases, 16);
    assert.equal(r.memory.maxmemoryBytes, 64 * 1024 * 1024);
    assert.equal(r.memory.policy, 'allkeys-lru');
    assert.ok(r.memory.usedBytes > 0);
    assert.equal([...(r.notifyKeyspaceEvents ?? '')].sort().join(''), 'AEK');
    assert.equal(r.protoMaxBulkLen, 512 * 1024 * 1024);
    assert.deepEqual(r.modules, []);
    assert.equal(r.functionLibraries, 1);
    assert.deepEqual(unavailable(r), []);
    assert.match(r.commands.REPLICAOF.via ?? '', /ACL DRYRUN/);
    assert.match(r.commands['CLIENT KILL'].via ?? '', /SKIPME/);
    assert.equal(r.bigKeys, undefined);
    assert.deepEqual(r.notes, []);
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(r)));
  });

  it('finds the big hash among small keys with --big-keys, binary keys printable', async () => {
    const r = await probeEndpoint(parseEndpointUrl(server.url), { bigKeys: true });
    assert.ok(r.bigKeys);
    assert.equal(r.bigKeys.sampled, 302);
    assert.equal(r.bigKeys.keys.length, 10);
    const [first, second] = r.bigKeys.keys;
    assert.deepEqual(
      { db: first?.db, key: first?.key, type: first?.type, elements: first?.elements },
      { db: 3, key: 'big:hash', type: 'hash', elements: 5000 },
    );
    assert.ok(first!.bytes > 10 * second!.bytes, `${first!.bytes} vs ${second!.bytes}`);
    const sorted = [...r.bigKeys.keys].sort((a, b) => b.bytes - a.bytes);
    assert.deepEqual(r.bigKeys.keys, sorted);
  });

  it('stops sampling at the bound, spread over the databases', async () => {
    const r = await probeEndpoint(parseEndpointUrl(server.url), { bigKeys: { samples: 60, top: 3 } });
    assert.ok(r.bigKeys);
    assert.ok(r.bigKeys.sampled <= 60 && r.bigKeys.sampled >= 50, `sampled ${r.bigKeys.sampled}`);
    assert.ok(r.bigKeys.keys.length <= 3);
    assert.ok(new Set(r.bigKeys.keys.map((k) => k.db)).size >= 1);
  });

  it('shows binary key names with \\x escapes', async () => {
    const db3 = await server.client(3);
    const huge = Buffer.from([0xc3, 0x28, 0x01]); // invalid UTF-8
    await db3.set(huge, 'y'.repeat(300_000));
    try {
      const r = await probeEndpoint(parseEndpointUrl(server.url), { bigKeys: true });
      const found = r.bigKeys?.keys.find((k) => k.type === 'string' && k.bytes > 300_000);
      assert.equal(found?.key, '\\xc3(\\x01');
    } finally {
      await db3.del(huge);
    }
  });

  it('changes nothing: keys, values, TTLs, config, functions, ACLs; closes its connection', async () => {
    const before = await snapshot(server);
    await probeEndpoint(parseEndpointUrl(server.url), { bigKeys: true });
    await probeEndpoint(parseEndpointUrl(server.url));
    const after = await snapshot(server);
    assert.deepEqual(after, before);
    const c = await server.client(0);
    await eventually(
      async () => !String(await c.call('CLIENT', 'LIST')).includes('name=migration-buddy:probe'),
      'probe connection closed',
    );
  });

  it('puts the connection back on its database after SELECTs', async () => {
    const endpoint = parseEndpointUrl(`${server.url}/5`);
    const client: Redis = await connect(endpoint, { role: 'probe-test' });
    try {
      await probeWith(client, endpoint, { bigKeys: true });
      assert.match(String(await client.call('CLIENT', 'INFO')), / db=5 /);
    } finally {
      client.disconnect();
    }
  });
});

describe('probe of a server with renamed commands', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis({
      configLines: [
        'rename-command REPLICAOF ""',
        'rename-command CONFIG ""',
        'rename-command MIGRATE mb-hidden-migrate',
        'databases 24',
      ],
    });
    const c = await server.client(0);
    await c.set('k', 'v');
  });
  after(() => server?.stop());

  it('reports REPLICAOF, CONFIG and a renamed MIGRATE as unknown commands', async () => {
    const r = await probeEndpoint(parseEndpointUrl(server.url));
    assert.deepEqual(unavailable(r), ['REPLICAOF', 'CONFIG GET', 'CONFIG SET', 'MIGRATE']);
    for (const c of ['REPLICAOF', 'CONFIG GET', 'CONFIG SET', 'MIGRATE'] as const)
      assert.equal(r.commands[c].reason, UNKNOWN, c);
    assert.equal(r.commands.REPLICAOF.via, 'COMMAND INFO');
  });

  it('still finds the number of databases, and says what it could not read', async () => {
    const r = await probeEndpoint(parseEndpointUrl(server.url));
    assert.equal(r.configuredDatabases, 24);
    assert.equal(r.notifyKeyspaceEvents, null);
    assert.equal(r.protoMaxBulkLen, null);
    assert.equal(r.memory.maxmemoryBytes, 0); // from INFO memory
    assert.equal(r.memory.policy, 'noeviction');
    assert.ok(r.notes.some((n) => /found with SELECT/.test(n)));
    assert.ok(r.notes.some((n) => /CONFIG GET is not available/.test(n)));
  });
});

describe('probe of a server with a password', () => {
  const password = 'pr0be-Secret-pw';
  let server: RedisServer;
  before(async () => {
    server = await startRedis({ password });
  });
  after(() => server?.stop());

  it('works with the right password', async () => {
    const r = await probeEndpoint(parseEndpointUrl(server.url));
    assert.deepEqual(unavailable(r), []);
    assert.ok(!JSON.stringify(r).includes(password));
  });

  it('fails with a UserError about authentication that does not show the password', async () => {
    const wrong = 'wr0ng-Guess-pw';
    const url = server.url.replace(encodeURIComponent(password), wrong);
    await assert.rejects(probeEndpoint(parseEndpointUrl(url)), (err: Error) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, /authentication/i);
      assert.ok(!err.message.includes(wrong), err.message);
      assert.ok(!err.message.includes(password), err.message);
      return true;
    });
  });
});

describe('probe as limited ACL users', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis({
      configLines: [
        'user limited on >pw ~* +@all -replicaof -migrate -config',
        // May not use ACL at all, so neither ACL WHOAMI nor ACL DRYRUN.
        'user noacl on >pw ~* +@all -acl &*',
      ],
    });
    const c = await server.client(0);
    await c.set('k', 'v');
  });
  after(() => server?.stop());

  it('reports commands taken away by ACL with an ACL reason, the others as available', async () => {
    const admin = await server.client(0);
    await admin.call('ACL', 'LOG', 'RESET');
    const r = await probeEndpoint(parseEndpointUrl(server.urlFor('limited', 'pw')));
    // Redis 7 users start without channel permissions (acl-pubsub-default resetchannels), so
    // subscribing to keyspace notifications is refused too: a real finding for live sync.
    assert.deepEqual(unavailable(r), ['REPLICAOF', 'CONFIG GET', 'CONFIG SET', 'MIGRATE', 'PSUBSCRIBE']);
    assert.equal(r.commands.REPLICAOF.reason, "ACL: user 'limited' has no permission to run 'replicaof'");
    assert.equal(r.commands.MIGRATE.reason, "ACL: user 'limited' has no permission to run 'migrate'");
    assert.match(r.commands['CONFIG GET'].reason ?? '', /^ACL: user 'limited' has no permission/);
    assert.match(r.commands['CONFIG SET'].reason ?? '', /^ACL: user 'limited' has no permission/);
    assert.match(r.commands.PSUBSCRIBE.reason ?? '', /^ACL: .*subscribe to '__keyspace@\*__:\*'/);
    assert.equal(r.configuredDatabases, 16); // CONFIG is denied: found with SELECT
    assert.equal(r.server.rdbVersionSource, 'dump');
    // Denied commands were only asked about with ACL DRYRUN, never run: nothing in ACL LOG.
    assert.deepEqual(await admin.call('ACL', 'LOG'), []);
  });

  it('without ACL DRYRUN, says "unsure" and counts commands as unavailable unless a harmless call proves them', async () => {
    const r = await probeEndpoint(parseEndpointUrl(server.urlFor('noacl', 'pw')));
    for (const c of [
      'REPLICAOF',
      'CONFIG SET',
      'MIGRATE',
      'SYNC',
      'PSYNC',
      'CLIENT PAUSE',
      'RESTORE',
    ] as const) {
      assert.equal(r.commands[c].available, false, c);
      assert.match(r.commands[c].reason ?? '', /^unsure: .*assumed unavailable$/, c);
    }
    for (const c of ['CONFIG GET', 'CLIENT LIST', 'CLIENT KILL', 'DUMP', 'FUNCTION DUMP'] as const)
      assert.equal(r.commands[c].available, true, c);
    assert.ok(r.notes.some((n) => /ACL DRYRUN is not available/.test(n)));
    assert.equal(r.configuredDatabases, 16);
  });
});

describe('probe of a cluster-mode node', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis({ configLines: ['cluster-enabled yes'] });
    const c = await server.client(0);
    await c.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await eventually(
      async () => /cluster_state:ok/.test(String(await c.call('CLUSTER', 'INFO'))),
      'cluster ok',
    );
    await c.set('k', 'v');
  });
  after(() => server?.stop());

  it('reports cluster mode, a single database, and the one-shard topology', async () => {
    const r = await probeEndpoint(parseEndpointUrl(server.url), { bigKeys: true });
    assert.equal(r.server.mode, 'cluster');
    assert.equal(r.configuredDatabases, 1);
    assert.equal(r.totalKeys, 1);
    assert.equal(r.bigKeys?.keys[0]?.key, 'k');
    assert.equal(r.cluster?.shards.length, 1);
    assert.deepEqual(r.cluster?.shards[0]?.slots, [[0, 16383]]);
    assert.ok(r.notes.some((n) => /Cluster of 1 shard/.test(n)));
  });
});
