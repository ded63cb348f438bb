import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkNotifyFlags, NEEDED_CLASSES } from '../../../../src/engine/live-sync/notify-config.js';
import {
  CANARY_EVENTS,
  canaryDb,
  canaryMissingFlags,
} from '../../../../src/engine/live-sync/notify-setup.js';

test('every canary event arrived: nothing is missing', () => {
  assert.deepEqual(canaryMissingFlags(new Set(CANARY_EVENTS.keys())), []);
  assert.deepEqual(canaryMissingFlags(new Set([...CANARY_EVENTS.keys(), 'new', 'expire'])), []);
});

test('a missing event names the class that publishes it', () => {
  const seen = new Set(CANARY_EVENTS.keys());
  seen.delete('expired');
  seen.delete('xadd');
  assert.deepEqual(canaryMissingFlags(seen), ['t', 'x']);
});

test('no event at all means no channel is on either: E comes first', () => {
  const missing = canaryMissingFlags(new Set());
  assert.equal(missing[0], 'E');
  assert.deepEqual(missing.slice(1).sort(), [...CANARY_EVENTS.values()].sort());
});

test('the canary checks every needed class but evictions, which cannot be provoked', () => {
  const checked = new Set(CANARY_EVENTS.values());
  assert.deepEqual(
    NEEDED_CLASSES.filter((c) => !checked.has(c)),
    ['e'],
  );
  // What the canary reports missing reads as a setting that checkNotifyFlags would also refuse.
  assert.equal(checkNotifyFlags('E' + [...checked].join('')).missing.join(''), 'e');
});

test('the canary writes in the lowest followed db', () => {
  assert.equal(canaryDb('all'), 0);
  assert.equal(canaryDb([5, 2, 9]), 2);
});
