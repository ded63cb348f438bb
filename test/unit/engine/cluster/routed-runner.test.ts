// How the cluster target cuts the copy engine's pipelines into routed units, and the slot tags
// that keep a big key's temporary key on the key's node.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commandKey, toUnits } from '../../../../src/engine/cluster/routed-runner.js';
import { keySlot, SLOT_COUNT } from '../../../../src/engine/cluster/slot.js';
import { slotTag } from '../../../../src/engine/cluster/slot-tag.js';
import { tempKeyFor } from '../../../../src/engine/copy/big-key.js';

describe('routed units', () => {
  test('the routing key: the first argument, the third after a subcommand, none for MULTI/EXEC', () => {
    assert.equal(commandKey(['RESTORE', Buffer.from('k1'), 0, Buffer.from('p')])?.toString(), 'k1');
    assert.equal(commandKey(['XGROUP', 'CREATE', Buffer.from('s1'), 'g', '$'])?.toString(), 's1');
    assert.equal(commandKey(['MEMORY', 'USAGE', 'm1'])?.toString(), 'm1');
    assert.equal(commandKey(['MULTI']), null);
    assert.equal(commandKey(['EXEC']), null);
  });

  test('a MULTI ... EXEC span is one unit routed by its first key; single commands are units of one', () => {
    const units = toUnits([
      ['SET', 'a', '1', 'PX', 100],
      ['MULTI'],
      ['DEL', 'b'],
      ['RPUSH', 'b', 'x'],
      ['PEXPIRE', 'b', 100],
      ['EXEC'],
      ['DEL', 'c'],
    ]);
    assert.deepEqual(
      units.map((u) => [u.key.toString(), u.commands.length]),
      [
        ['a', 1],
        ['b', 5],
        ['c', 1],
      ],
    );
    assert.throws(() => toUnits([['MULTI'], ['DEL', 'x']]), /MULTI without EXEC/);
  });
});

describe('slot tags', () => {
  test('every slot has a tag hashing to it', () => {
    for (let slot = 0; slot < SLOT_COUNT; slot += 97) assert.equal(keySlot(`{${slotTag(slot)}}`), slot);
    assert.equal(keySlot(`x{${slotTag(SLOT_COUNT - 1)}}y`), SLOT_COUNT - 1);
  });

  test("a big key's temporary key is in the key's slot, hash tags and binary keys included", () => {
    for (const key of ['plain', '{user1}.profile', 'a{}b', Buffer.from([0xff, 0x7b, 0x00, 0x7d])]) {
      const k = Buffer.isBuffer(key) ? key : Buffer.from(key);
      assert.equal(keySlot(tempKeyFor(k)), keySlot(k));
      assert.notDeepEqual(tempKeyFor(k), tempKeyFor(Buffer.concat([k, Buffer.from('x')])));
    }
  });
});
