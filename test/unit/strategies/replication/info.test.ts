import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEndpointUrl } from '../../../../src/redis/endpoint.js';
import {
  buildLoopReport,
  compareCounts,
  describeLink,
  hasContact,
  mergeOriginals,
  neededSettings,
  parseReplicaBufferLimit,
  parseSourceState,
  parseTargetState,
  replicatesFrom,
  stoppedByAbort,
} from '../../../../src/strategies/replication/index.js';
import { formatRedisSize, parseByteSize } from '../../../../src/util/byte-size.js';

// Captured from redis-server 7.0.15 (trimmed).
const TARGET_SYNCING = `# Server
redis_version:7.0.15
run_id:aaaa
tcp_port:40871

# Persistence
loading:0
async_loading:0

# Replication
role:slave
master_host:127.0.0.1
master_port:32887
master_link_status:down
master_last_io_seconds_ago:-1
master_sync_in_progress:1
slave_read_repl_offset:290621181
slave_repl_offset:290621181
master_sync_total_bytes:0
master_sync_read_bytes:16387
master_sync_left_bytes:-16387
master_sync_perc:0.00
master_sync_last_io_seconds_ago:0
master_link_down_since_seconds:2
slave_priority:100
slave_read_only:1
connected_slaves:0
master_repl_offset:290621181

# Keyspace
db0:keys=10,expires=2,avg_ttl=500
`;

const SOURCE = `# Server
run_id:bbbb
# Replication
role:master
connected_slaves:2
slave0:ip=127.0.0.1,port=40871,state=wait_bgsave,offset=0,lag=0
slave1:ip=10.0.0.9,port=6379,state=online,offset=500,lag=1
master_repl_offset:1000
repl_backlog_size:1048576
# Stats
sync_full:7
sync_partial_err:6
# Keyspace
db0:keys=12,expires=2,avg_ttl=500
db1:keys=5,expires=0,avg_ttl=0
`;

describe('replication INFO', () => {
  it('reads the target side of a sync', () => {
    const t = parseTargetState(TARGET_SYNCING);
    assert.equal(t.role, 'replica');
    assert.equal(t.masterPort, 32887);
    assert.equal(t.linkUp, false);
    assert.equal(t.syncInProgress, true);
    assert.equal(t.syncTotalBytes, null, 'diskless: size unknown');
    assert.equal(t.syncReadBytes, 16387);
    assert.equal(t.lastIoSecondsAgo, null);
    assert.equal(t.linkDownSinceSeconds, 2);
    assert.equal(t.offset, 290621181);
    assert.equal(t.tcpPort, 40871);
    assert.equal(t.readOnly, true);
    assert.ok(replicatesFrom(t, 'localhost', 32887));
    assert.ok(!replicatesFrom(t, '127.0.0.1', 1));
    assert.match(describeLink(t), /master_link_status:down, master_sync_in_progress:1/);
  });

  it('reads the source side: replicas, full syncs, backlog', () => {
    const s = parseSourceState(SOURCE);
    assert.equal(s.offset, 1000);
    assert.equal(s.syncFull, 7);
    assert.equal(s.replBacklogSize, 1048576);
    assert.deepEqual(s.replicas[0], {
      ip: '127.0.0.1',
      port: 40871,
      state: 'wait_bgsave',
      offset: 0,
      lag: 0,
    });
    assert.equal(s.replicas.length, 2);
  });

  it('counts contact only on evidence the source answered', () => {
    const t = parseTargetState(TARGET_SYNCING);
    assert.ok(hasContact(t, null), 'snapshot bytes arrive');
    const refused = parseTargetState(
      TARGET_SYNCING.replace('master_sync_read_bytes:16387', 'master_sync_read_bytes:0'),
    );
    assert.ok(!hasContact(refused, null), 'a refused SYNC also shows sync_in_progress for a moment');
    assert.ok(hasContact(refused, parseSourceState(SOURCE)), 'the source lists it');
    const master = parseTargetState('# Replication\nrole:master\nmaster_repl_offset:0\n');
    assert.ok(!hasContact(master, parseSourceState(SOURCE)));
    assert.equal(describeLink(master), 'role:master (not replicating)');
  });

  it('compares persistent keys per db with a tolerance', () => {
    const s = parseSourceState(SOURCE);
    const t = parseTargetState(TARGET_SYNCING);
    const counts = compareCounts(s, t, [0, 1], 1);
    assert.deepEqual(
      counts.map((c) => [c.db, c.source, c.target, c.ok]),
      [
        [0, 10, 8, false],
        [1, 5, 0, false],
      ],
    );
    assert.ok(compareCounts(s, t, [0], 25)[0]!.ok);
  });
});

describe('loop report', () => {
  it('parses the replica class of client-output-buffer-limit', () => {
    const l = parseReplicaBufferLimit('normal 0 0 0 slave 65536 32768 1 pubsub 33554432 8388608 60')!;
    assert.deepEqual([l.hardBytes, l.softBytes, l.softSeconds, l.text], [65536, 32768, 1, '64kb 32kb 1']);
    assert.equal(parseReplicaBufferLimit('normal 0 0 0'), null);
    assert.equal(parseByteSize('256mb'), 256 * 1024 * 1024);
    assert.equal(parseByteSize('1k'), 1000);
    assert.equal(formatRedisSize(1048576), '1mb');
  });

  it('names the settings to raise, with current and suggested values', () => {
    const report = buildLoopReport(
      {
        syncFullBaseline: 2,
        syncFullNow: 6,
        streamBytes: 40 * 1024 * 1024,
        observedMs: 4000,
        maxOutputBufferBytes: 70_000,
        backlogBytes: 1048576,
      },
      { bufferLimit: parseReplicaBufferLimit('slave 65536 32768 1'), backlog: 1048576 },
    );
    assert.equal(report.fullSyncs, 4);
    assert.match(report.message, /client-output-buffer-limit replica \(now "64kb 32kb 1"\)/);
    assert.match(report.message, /repl-backlog-size \(now 1mb\)/);
    assert.match(report.message, /sync_full 2 -> 6/);
    assert.equal(report.settings['client-output-buffer-limit replica'].current, '64kb 32kb 1');
    assert.match(
      report.settings['client-output-buffer-limit replica'].suggested,
      /^\d+(mb|gb) \d+(mb|gb) 120$/,
    );
    assert.ok(
      parseByteSize(report.settings['repl-backlog-size'].suggested.replace(/\s.*/, ''))! >= 2 * 1048576,
    );
    const unknown = buildLoopReport(
      {
        syncFullBaseline: 0,
        syncFullNow: 3,
        streamBytes: 0,
        observedMs: 1000,
        maxOutputBufferBytes: null,
        backlogBytes: null,
      },
      { bufferLimit: null, backlog: null },
    );
    assert.match(unknown.message, /now unknown: CONFIG GET refused/);
  });
});

describe('settings', () => {
  it('asks for masteruser/masterauth/tls-replication from the source endpoint', () => {
    const acl = parseEndpointUrl('rediss://repl:pw-1234@h:6380', 's');
    assert.deepEqual(neededSettings(acl), {
      masteruser: 'repl',
      masterauth: 'pw-1234',
      'tls-replication': 'yes',
      'replica-read-only': 'yes',
    });
    const plain = neededSettings(parseEndpointUrl('redis://h:6379', 's'));
    assert.equal(plain.masterauth, '');
    assert.equal(plain.masteruser, '');
    assert.equal(plain['tls-replication'], 'no');
  });

  it('keeps the earliest recorded original of a setting', () => {
    assert.deepEqual(mergeOriginals({ a: '1' }, { a: 'changed', b: '2' }, undefined), { a: '1', b: '2' });
  });

  it('tells an abort from a shutdown by the runner signal reason', () => {
    const a = new AbortController();
    a.abort(new Error('step stopped: abort'));
    const s = new AbortController();
    s.abort(new Error('step stopped: shutdown'));
    assert.equal(stoppedByAbort(a.signal), true);
    assert.equal(stoppedByAbort(s.signal), false);
    assert.equal(stoppedByAbort(new AbortController().signal), false);
  });
});
