import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkNotifyFlags,
  missingNotificationsMessage,
  parseNotifyFlags,
  withNeededFlags,
} from '../../../../src/engine/live-sync/notify-config.js';

test('A expands to every class but m and n', () => {
  const flags = parseNotifyFlags('AKE');
  for (const c of 'g$lshzxetdKE') assert.ok(flags.has(c), c);
  assert.ok(!flags.has('m'));
  assert.ok(!flags.has('n'));
});

test('KEA, AE and Kg$lshzxet are enough; the channel kind follows E or K', () => {
  assert.deepEqual(checkNotifyFlags('AKE'), { ok: true, kind: 'keyevent', missing: [], current: 'AKE' });
  assert.equal(checkNotifyFlags('AE').ok, true);
  const k = checkNotifyFlags('Kg$lshzxet');
  assert.equal(k.ok, true);
  assert.equal(k.kind, 'keyspace');
});

test('missing classes are reported, a channel flag first when neither is on', () => {
  assert.deepEqual(checkNotifyFlags('').missing, ['E', 'g', '$', 'l', 's', 'h', 'z', 'x', 'e', 't']);
  assert.deepEqual(checkNotifyFlags('Ex').missing, ['g', '$', 'l', 's', 'h', 'z', 'e', 't']);
  assert.deepEqual(checkNotifyFlags('A').missing, ['E']);
});

test('withNeededFlags keeps what was there and adds only what is missing', () => {
  assert.equal(withNeededFlags(''), 'Eg$lshzxet');
  assert.equal(withNeededFlags('Kx'), 'Kxg$lshzet');
  assert.equal(withNeededFlags('A'), 'AE');
  assert.equal(withNeededFlags('AKE'), 'AKE');
  assert.equal(checkNotifyFlags(withNeededFlags('Em')).ok, true);
});

test('the message names the flags and the parameter group', () => {
  const msg = missingNotificationsMessage('src (redis://src:6379)', checkNotifyFlags(''));
  assert.match(msg, /"" \(off\)/);
  assert.match(msg, /KEA/);
  assert.match(msg, /parameter group/);
  assert.match(msg, /missing: Eg\$lshzxet/);
});
