import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aclReason, parseAclGrants, readDryRun } from '../../../src/probe/acl.js';

describe('parseAclGrants', () => {
  it('reads a Redis 7 user allowed everything', () => {
    const reply = [
      'flags',
      ['on', 'nopass'],
      'passwords',
      [],
      'commands',
      '+@all',
      'keys',
      '~*',
      'channels',
      '&*',
      'selectors',
      [],
    ];
    assert.deepEqual(parseAclGrants(reply), { allCommands: true, allKeys: true, allChannels: true });
  });

  it('reads a Redis 7 user with commands taken away and no channels', () => {
    const reply = [
      'flags',
      ['on'],
      'passwords',
      ['x'],
      'commands',
      '+@all -replicaof -config',
      'keys',
      '~*',
      'channels',
      '',
      'selectors',
      [],
    ];
    assert.deepEqual(parseAclGrants(reply), { allCommands: false, allKeys: true, allChannels: false });
  });

  it('reads the Redis 6.2 shape (lists and flags)', () => {
    const reply = [
      'flags',
      ['on', 'allkeys', 'allchannels', 'allcommands', 'nopass'],
      'passwords',
      [],
      'commands',
      '+@all',
      'keys',
      ['*'],
      'channels',
      ['*'],
    ];
    assert.deepEqual(parseAclGrants(reply), { allCommands: true, allKeys: true, allChannels: true });
  });

  it('treats key patterns as not all keys', () => {
    const reply = ['flags', ['on'], 'commands', '+@all', 'keys', '~app:*', 'channels', '&*'];
    assert.equal(parseAclGrants(reply).allKeys, false);
  });
});

describe('readDryRun', () => {
  it('OK is allowed', () => {
    assert.deepEqual(readDryRun(null, 'OK', 'u', 'dump'), { kind: 'allowed' });
  });

  it('a denial reply names user and command', () => {
    const v = readDryRun(
      null,
      "This user has no permissions to run the 'replicaof' command",
      'limited',
      'replicaof',
    );
    assert.deepEqual(v, {
      kind: 'denied',
      reason: "ACL: user 'limited' has no permission to run 'replicaof'",
    });
  });

  it('a denied channel says so', () => {
    const v = readDryRun(
      null,
      "This user has no permissions to access the '__keyspace@*__:*' channel",
      'u',
      'psubscribe',
    );
    assert.equal(v.kind, 'denied');
    assert.match((v as { reason: string }).reason, /subscribe to '__keyspace@\*__:\*'/);
  });

  it('"Command not found" means the probed command is unknown', () => {
    assert.deepEqual(readDryRun(new Error("ERR Command 'replicaof' not found"), null, 'u', 'replicaof'), {
      kind: 'unknown-command',
    });
  });

  it('DRYRUN itself refused or missing gives no answer', () => {
    const noPerm = readDryRun(
      new Error("NOPERM this user has no permissions to run the 'acl|dryrun' command"),
      null,
      'u',
      'sync',
    );
    assert.equal(noPerm.kind, 'no-answer');
    const old = readDryRun(
      new Error("ERR Unknown subcommand or wrong number of arguments for 'DRYRUN'"),
      null,
      'u',
      'sync',
    );
    assert.equal(old.kind, 'no-answer');
    const renamed = readDryRun(
      new Error("ERR unknown command 'ACL', with args beginning with: 'DRYRUN'"),
      null,
      'u',
      'sync',
    );
    assert.equal(renamed.kind, 'no-answer');
  });
});

describe('aclReason', () => {
  it('mentions a key denial', () => {
    assert.match(
      aclReason(
        'NOPERM this user has no permissions to access one of the keys used as arguments',
        'u',
        'dump',
      ),
      /^ACL: user 'u' has no permission to run 'dump'$/,
    );
    assert.match(aclReason("This user has no permissions to access the 'k1' key", 'u', 'dump'), /key 'k1'/);
  });
});
