import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { migrateOptionsFromParams } from '../../../../src/strategies/migrate/executors.js';
import { classifyMigrateReply, migrateArgs } from '../../../../src/strategies/migrate/index.js';

const call = {
  host: '10.0.0.5',
  port: 6380,
  db: 2,
  timeoutMs: 5000,
  keys: [Buffer.from('a'), Buffer.from([0xff])],
};

describe('MIGRATE command', () => {
  it('always copies and replaces, in the KEYS form, with AUTH2 for an ACL user', () => {
    const args = migrateArgs({ username: 'migrator', password: 'pw' }, call);
    assert.deepEqual(args.slice(0, 11).map(String), [
      '10.0.0.5',
      '6380',
      '',
      '2',
      '5000',
      'COPY',
      'REPLACE',
      'AUTH2',
      'migrator',
      'pw',
      'KEYS',
    ]);
    assert.deepEqual(args.slice(11), call.keys);
  });

  it('uses AUTH for the default user and nothing without a password', () => {
    assert.deepEqual(migrateArgs({ username: 'default', password: 'pw' }, call).slice(7, 10).map(String), [
      'AUTH',
      'pw',
      'KEYS',
    ]);
    assert.equal(migrateArgs({}, call)[7], 'KEYS');
  });

  it('classifies replies: NOKEY is fine, IOERR is retried, the rest stops', () => {
    assert.equal(classifyMigrateReply(Buffer.from('OK')).kind, 'ok');
    assert.equal(classifyMigrateReply('NOKEY').kind, 'nokey');
    assert.equal(
      classifyMigrateReply(new Error('IOERR error or timeout connecting to the client')).kind,
      'ioerr',
    );
    const auth = classifyMigrateReply(new Error('ERR Target instance replied with error: WRONGPASS invalid'));
    assert.equal(auth.kind, 'fatal');
    assert.match(auth.message, /WRONGPASS/);
  });

  it('takes the engine options from the planned step', () => {
    const bulk = migrateOptionsFromParams({
      dbs: [0, 3],
      onNonEmptyTarget: 'refuse',
      batchKeys: 100,
      timeoutMs: 10_000,
      functions: 'APPEND',
      match: 'user:*',
    });
    assert.equal(bulk.prepareTarget, true);
    assert.deepEqual(bulk.dbs, [0, 3]);
    assert.equal(bulk.functions, 'APPEND');
    assert.equal(bulk.match, 'user:*');
    const final = migrateOptionsFromParams({ pass: 'final', dbs: [0], deleteRemoved: true, match: null });
    assert.equal(final.prepareTarget, false);
    assert.equal(final.deleteRemoved, true);
    assert.equal(final.functions, null);
    assert.equal(final.match, undefined);
  });
});
