import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeLockUnit,
  isServerKey,
  lockHeldMessage,
  lockUnits,
  parseLockUnit,
  serverKey,
} from '../../../src/runbook/locks.js';
import { memoryMigration } from './fixtures.js';

const S = { address: '10.0.0.5', port: 6379 };

describe('lock units', () => {
  const rows: [string, Parameters<typeof lockUnits>, string[]][] = [
    ['replication takes the whole server', [S, 'replication', [0]], ['10.0.0.5:6379/*']],
    ['a copy of every database', [S, 'dump-restore', 'all'], ['10.0.0.5:6379/*']],
    [
      'a copy of some databases, each once, in order',
      [S, 'migrate', [3, 0, 3]],
      ['10.0.0.5:6379/0', '10.0.0.5:6379/3'],
    ],
    ['an IPv6 server', [{ address: '::1', port: 7000 }, 'dump-restore', [1]], ['[::1]:7000/1']],
  ];
  for (const [name, args, units] of rows) {
    it(name, () => {
      assert.deepEqual(lockUnits(...args), units);
      for (const u of units) assert.ok(parseLockUnit(u), `${u} parses`);
    });
  }

  it('parses only what it writes', () => {
    assert.deepEqual(parseLockUnit('[::1]:7000/*'), { server: '[::1]:7000', db: '*' });
    for (const bad of ['10.0.0.5', '10.0.0.5:6379', '10.0.0.5:6379/x', 'a b:1/0', '10.0.0.5:6379/0/1']) {
      assert.equal(parseLockUnit(bad), undefined, bad);
    }
    assert.equal(serverKey(S), '10.0.0.5:6379');
    assert.ok(isServerKey('10.0.0.5:6379'));
    assert.ok(!isServerKey('old-cache'));
  });

  it('says which server and databases, and who holds them', () => {
    assert.equal(describeLockUnit('10.0.0.5:6379/*'), '10.0.0.5:6379 (every database)');
    assert.equal(describeLockUnit('10.0.0.5:6379/2'), '10.0.0.5:6379 db 2');
    const holder = memoryMigration({ id: 'mheld', status: 'awaiting_approval' });
    assert.match(
      lockHeldMessage({ unit: '10.0.0.5:6379/2', migrationId: 'mheld', migration: holder }, false),
      /^10\.0\.0\.5:6379 db 2 is in use by migration mheld \(src -> dst, awaiting_approval, requested by UREQ\)/,
    );
    const gone = lockHeldMessage({ unit: '10.0.0.5:6379/*', migrationId: 'mgone' }, true);
    assert.match(gone, /locked by migration mgone, which no longer exists; an approver can clear it/);
    assert.match(gone, /migration-buddy unlock 10\.0\.0\.5:6379 --as <user>/);
  });
});
