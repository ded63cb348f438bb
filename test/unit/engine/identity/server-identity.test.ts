import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { changedMessage } from '../../../../src/engine/identity/guard.js';
import {
  asIdentity,
  collapsed,
  identityChange,
  parseIdentity,
  roleChange,
} from '../../../../src/engine/identity/server-identity.js';

const MASTER = [
  '# Server',
  'redis_version:7.0.15',
  'run_id:1111111111111111111111111111111111111111',
  '# Replication',
  'role:master',
  'connected_slaves:0',
  '# Keyspace',
  'db0:keys=1000,expires=10,avg_ttl=0',
  'db3:keys=24,expires=0,avg_ttl=0',
].join('\r\n');

const REPLICA = MASTER.replace('role:master', 'role:slave\r\nmaster_host:10.0.0.9\r\nmaster_port:6380')
  .replace('db0:keys=1000', 'db0:keys=2')
  .replace('db3:keys=24,expires=0,avg_ttl=0\r\n', '');

describe('server identity', () => {
  test('parses role, master, run id and the keys of the selected dbs', () => {
    const all = parseIdentity(MASTER);
    assert.equal(all.role, 'master');
    assert.equal(all.master, null);
    assert.equal(all.runId, '1111111111111111111111111111111111111111');
    assert.equal(all.keys, 1024);
    assert.equal(parseIdentity(MASTER, [3]).keys, 24);
    const replica = parseIdentity(REPLICA);
    assert.equal(replica.role, 'replica');
    assert.equal(replica.master, '10.0.0.9:6380');
  });

  test('a master that became a replica is a role change, whatever else changed', () => {
    const change = identityChange(parseIdentity(MASTER), parseIdentity(REPLICA));
    assert.deepEqual(change, { kind: 'role', detail: 'became a replica of 10.0.0.9:6380' });
    assert.equal(roleChange(parseIdentity(REPLICA), parseIdentity(MASTER))?.kind, 'role');
    const otherMaster = parseIdentity(REPLICA.replace('10.0.0.9', '10.0.0.10'));
    assert.match(
      identityChange(parseIdentity(REPLICA), otherMaster)?.detail ?? '',
      /replica of 10\.0\.0\.10/,
    );
  });

  test('a new run id is a restart; a run id hidden by the server is not', () => {
    const restarted = parseIdentity(MASTER.replace(/run_id:1+/, `run_id:${'2'.repeat(40)}`));
    const change = identityChange(parseIdentity(MASTER), restarted);
    assert.equal(change?.kind, 'restart');
    assert.match(change!.detail, /restarted \(run_id 11111111 is now 22222222\) and holds 1024 keys/);
    const hidden = parseIdentity(MASTER.replace(/run_id:1+\r\n/, ''));
    assert.equal(identityChange(parseIdentity(MASTER), hidden), null);
  });

  test('a key count that collapses is a dataset change; normal churn is not', () => {
    const base = parseIdentity(MASTER);
    const flushed = parseIdentity(MASTER.replace('db0:keys=1000', 'db0:keys=3'));
    assert.equal(identityChange(base, flushed)?.kind, 'dataset');
    assert.match(identityChange(base, flushed)!.detail, /27 keys left of 1024/);
    const churn = parseIdentity(MASTER.replace('db0:keys=1000', 'db0:keys=700'));
    assert.equal(identityChange(base, churn), null);
    assert.equal(collapsed(20, 0), true);
    assert.equal(collapsed(10, 0), false, 'a handful of keys going is not a collapse');
    assert.equal(collapsed(1000, 501), false);
  });

  test('round-trips through JSON (checkpoints, step results) and rejects what is not one', () => {
    const id = parseIdentity(REPLICA);
    assert.deepEqual(asIdentity(JSON.parse(JSON.stringify(id))), id);
    assert.equal(asIdentity({ runId: 'x' }), undefined);
    assert.equal(asIdentity(null), undefined);
  });

  test('the message says what happened, what it left and what to do next', () => {
    const change = identityChange(parseIdentity(MASTER), parseIdentity(REPLICA))!;
    const text = changedMessage(
      'source',
      'old (redis://127.0.0.1:6390)',
      change,
      'during live sync',
      'nothing more was applied to the target; the target keeps what it had',
    );
    assert.equal(
      text,
      'the source old (redis://127.0.0.1:6390) became a replica of 10.0.0.9:6380 during live sync; nothing ' +
        'more was applied to the target; the target keeps what it had. Find out who ran REPLICAOF on the ' +
        'source (INFO replication, its log); once it is the master again, plan the migration again',
    );
  });
});
