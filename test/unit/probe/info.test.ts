import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  infoField,
  parseFlavor,
  parseFunctionLibraries,
  parseInfo,
  parseInfoModules,
  parseKeyspace,
  parseMemory,
  parseModuleList,
  parseReplication,
  parseServer,
  parseVersion,
  versionAtLeast,
} from '../../../src/probe/info.js';

// Trimmed from real `INFO` output of redis-server 7.0.15 (CRLF line ends, as on the wire).
const REDIS_70 = [
  '# Server',
  'redis_version:7.0.15',
  'redis_git_sha1:00000000',
  'redis_mode:standalone',
  'tcp_port:6379',
  'uptime_in_seconds:3725',
  '',
  '# Memory',
  'used_memory:1051712',
  'used_memory_human:1.00M',
  'maxmemory:104857600',
  'maxmemory_human:100.00M',
  'maxmemory_policy:allkeys-lru',
  'number_of_functions:2',
  'number_of_libraries:1',
  '',
  '# Replication',
  'role:master',
  'connected_slaves:1',
  'slave0:ip=127.0.0.1,port=6380,state=online,offset=1234,lag=0',
  'master_failover_state:no-failover',
  'master_repl_offset:1234',
  '',
  '# Modules',
  'module:name=search,ver=20804,api=1,filters=0,usedby=[],using=[ReJSON],options=[]',
  'module:name=ReJSON,ver=20606,api=1,filters=0,usedby=[search],using=[],options=[handle-io-errors]',
  '',
  '# Cluster',
  'cluster_enabled:0',
  '',
  '# Keyspace',
  'db0:keys=120,expires=20,avg_ttl=59000',
  'db3:keys=7,expires=0,avg_ttl=0',
  '',
].join('\r\n');

const REPLICA = [
  '# Replication',
  'role:slave',
  'master_host:10.0.0.5',
  'master_port:6379',
  'master_link_status:down',
  'slave_repl_offset:999',
  'connected_slaves:0',
  'master_repl_offset:998',
].join('\n');

describe('parseInfo', () => {
  it('splits sections and fields, keeping values with colons intact', () => {
    const info = parseInfo('# Server\nredis_version:7.0.15\nexecutable:/usr/bin/redis:server\n');
    assert.equal(info['server']?.['redis_version'], '7.0.15');
    assert.equal(info['server']?.['executable'], '/usr/bin/redis:server');
    assert.equal(infoField(info, 'redis_version'), '7.0.15');
    assert.equal(infoField(info, 'nope'), undefined);
  });

  it('keeps repeated fields (one `module:` line per module)', () => {
    const modules = parseInfoModules(parseInfo(REDIS_70));
    assert.deepEqual(modules, [
      { name: 'search', version: 20804 },
      { name: 'ReJSON', version: 20606 },
    ]);
  });
});

describe('parseKeyspace', () => {
  it('reads keys, expires and avg_ttl per database, sorted', () => {
    const info = parseInfo(
      '# Keyspace\ndb10:keys=1,expires=1,avg_ttl=5\ndb0:keys=120,expires=20,avg_ttl=59000\n',
    );
    assert.deepEqual(parseKeyspace(info), [
      { db: 0, keys: 120, expires: 20, avgTtlMs: 59000 },
      { db: 10, keys: 1, expires: 1, avgTtlMs: 5 },
    ]);
  });

  it('reads hashes with field TTLs: Redis >= 7.4 subexpiry, Valkey >= 9 keys_with_volatile_items', () => {
    const redis = parseInfo('# Keyspace\ndb0:keys=3,expires=1,avg_ttl=10,subexpiry=2\n');
    assert.deepEqual(parseKeyspace(redis), [
      { db: 0, keys: 3, expires: 1, avgTtlMs: 10, hashesWithFieldTtls: 2 },
    ]);
    const valkey = parseInfo('# Keyspace\ndb1:keys=4,expires=0,avg_ttl=0,keys_with_volatile_items=3\n');
    assert.deepEqual(parseKeyspace(valkey), [
      { db: 1, keys: 4, expires: 0, avgTtlMs: 0, hashesWithFieldTtls: 3 },
    ]);
  });

  it('leaves the field TTL count out where the server does not report it, ignores unknown fields', () => {
    const info = parseInfo('# Keyspace\ndb0:keys=3,expires=1,avg_ttl=10,future_field=9\n');
    assert.deepEqual(parseKeyspace(info), [{ db: 0, keys: 3, expires: 1, avgTtlMs: 10 }]);
  });

  it('is empty when no database holds keys', () => {
    assert.deepEqual(parseKeyspace(parseInfo('# Keyspace\n')), []);
  });
});

describe('parseServer and parseFlavor', () => {
  it('reads a Redis server', () => {
    assert.deepEqual(parseServer(parseInfo(REDIS_70)), {
      version: '7.0.15',
      flavor: 'redis',
      mode: 'standalone',
      uptimeSeconds: 3725,
    });
  });

  it('reports cluster mode from redis_mode or cluster_enabled', () => {
    assert.equal(parseServer(parseInfo('# Server\nredis_mode:cluster\n')).mode, 'cluster');
    assert.equal(
      parseServer(parseInfo('# Server\nredis_mode:standalone\n# Cluster\ncluster_enabled:1\n')).mode,
      'cluster',
    );
    assert.equal(parseServer(parseInfo('# Server\nredis_mode:sentinel\n')).mode, 'sentinel');
  });

  it('recognises Valkey, whose redis_version is the compatible Redis version', () => {
    const info = parseInfo('# Server\nredis_version:7.2.4\nserver_name:valkey\nvalkey_version:8.0.1\n');
    assert.deepEqual(parseFlavor(info), { flavor: 'valkey', flavorVersion: '8.0.1' });
    assert.equal(parseServer(info).version, '7.2.4');
  });

  it('recognises forks that only add a <name>_version field', () => {
    assert.deepEqual(parseFlavor(parseInfo('# Server\nredis_version:6.2.0\ndragonfly_version:df-v1.0\n')), {
      flavor: 'dragonfly',
      flavorVersion: 'df-v1.0',
    });
  });
});

describe('parseReplication', () => {
  it('reads a master with a replica', () => {
    assert.deepEqual(parseReplication(parseInfo(REDIS_70)), {
      role: 'master',
      connectedReplicas: 1,
      replOffset: 1234,
    });
  });

  it('reads a replica and its link', () => {
    assert.deepEqual(parseReplication(parseInfo(REPLICA)), {
      role: 'replica',
      connectedReplicas: 0,
      replOffset: 998,
      masterHost: '10.0.0.5',
      masterPort: 6379,
      masterLinkStatus: 'down',
    });
  });
});

describe('parseMemory and parseFunctionLibraries', () => {
  it('reads used memory, maxmemory and the policy', () => {
    assert.deepEqual(parseMemory(parseInfo(REDIS_70)), {
      usedBytes: 1051712,
      maxmemoryBytes: 104857600,
      policy: 'allkeys-lru',
    });
    assert.equal(parseFunctionLibraries(parseInfo(REDIS_70)), 1);
  });

  it('says null when a field is missing (old servers)', () => {
    assert.deepEqual(parseMemory(parseInfo('# Memory\nused_memory:10\n')), {
      usedBytes: 10,
      maxmemoryBytes: null,
      policy: null,
    });
    assert.equal(parseFunctionLibraries(parseInfo('# Memory\nused_memory:10\n')), null);
  });
});

describe('parseModuleList', () => {
  it('reads the RESP2 flat maps of MODULE LIST', () => {
    const reply = [
      ['name', 'search', 'ver', 20804, 'path', '/opt/redisearch.so', 'args', []],
      ['name', 'ReJSON', 'ver', 20606, 'path', '/opt/rejson.so', 'args', []],
    ];
    assert.deepEqual(parseModuleList(reply), [
      { name: 'search', version: 20804 },
      { name: 'ReJSON', version: 20606 },
    ]);
    assert.deepEqual(parseModuleList([]), []);
    assert.deepEqual(parseModuleList(null), []);
  });
});

describe('versions', () => {
  it('compares major.minor', () => {
    assert.deepEqual(parseVersion('7.0.15'), [7, 0, 15]);
    assert.deepEqual(parseVersion('unknown'), [0, 0, 0]);
    assert.equal(versionAtLeast('7.0.15', 7), true);
    assert.equal(versionAtLeast('7.0.15', 7, 2), false);
    assert.equal(versionAtLeast('7.2.0', 7, 2), true);
    assert.equal(versionAtLeast('6.2.14', 7), false);
    assert.equal(versionAtLeast('8.0.0', 7, 4), true);
  });
});
