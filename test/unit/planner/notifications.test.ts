import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  flagsForLiveSync,
  notificationGaps,
  notificationsSufficient,
} from '../../../src/planner/notifications.js';

test('what counts as enough for live sync', () => {
  const table: [string, boolean][] = [
    ['KEA', true],
    ['AK', true],
    ['EA', true],
    ['Kg$lshzxe', true],
    ['Kg$lshzxet', true],
    ['A', false], // no channel
    ['', false],
    ['Ex', false],
    ['K$lshzxe', false], // no generic events: DEL, RENAME, EXPIRE would be missed
    ['Kg$lshzx', false], // no evictions
  ];
  for (const [flags, ok] of table) assert.equal(notificationsSufficient(flags), ok, flags);
});

test('gaps name the missing channel and classes; t is optional', () => {
  assert.deepEqual(notificationGaps('Ex'), {
    noChannel: false,
    missingClasses: ['g', '$', 'l', 's', 'h', 'z', 'e'],
    missingOptional: ['t'],
  });
  assert.deepEqual(notificationGaps('A'), { noChannel: true, missingClasses: [], missingOptional: [] });
});

test('flags to set keep what is there and add what is needed, compactly', () => {
  assert.equal(flagsForLiveSync(''), 'KA');
  assert.equal(flagsForLiveSync('Ex'), 'EA');
  assert.equal(flagsForLiveSync('KEA'), 'KEA');
  assert.equal(flagsForLiveSync('Km'), 'KAm');
  assert.equal(flagsForLiveSync('Kn$'), 'KAn');
  for (const f of ['', 'Ex', 'Km', 'Kg$']) assert.ok(notificationsSufficient(flagsForLiveSync(f)), f);
});
