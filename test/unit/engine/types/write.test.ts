import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextStreamId, pendingCommands, streamMetaCommands } from '../../../../src/engine/types/stream.js';
import { featuresForVersion } from '../../../../src/engine/types/value.js';
import { chunkWriteCommands, valueWriteCommands } from '../../../../src/engine/types/write.js';

const b = (s: string) => Buffer.from(s);
const text = (cmds: unknown[][]) =>
  cmds.map((c) => c.map((a) => (Buffer.isBuffer(a) ? a.toString() : String(a))));

test('zset entries come as member, score and are written as score, member', () => {
  const cmds = chunkWriteCommands(b('z'), { type: 'zset', entries: [b('a'), b('1.5'), b('b'), b('-inf')] });
  assert.deepEqual(text(cmds), [['ZADD', 'z', '1.5', 'a', '-inf', 'b']]);
});

test('large collections are split into several commands', () => {
  const members = Array.from({ length: 2500 }, (_, i) => b(`m${i}`));
  const cmds = chunkWriteCommands(b('s'), { type: 'set', members });
  assert.deepEqual(
    cmds.map((c) => c.length - 2),
    [1024, 1024, 452],
  );
  const big = Array.from({ length: 4 }, () => Buffer.alloc(400_000));
  assert.equal(chunkWriteCommands(b('l'), { type: 'list', items: big }).length, 2, 'split by bytes too');
});

test('strings: whole values are SET, chunks APPENDed', () => {
  assert.deepEqual(
    text(valueWriteCommands(b('k'), { type: 'string', value: b('v') }, featuresForVersion('7.0.15'))),
    [['SET', 'k', 'v']],
  );
  assert.deepEqual(text(chunkWriteCommands(b('k'), { type: 'string', value: b('part') })), [
    ['APPEND', 'k', 'part'],
  ]);
});

test('stream metadata: counters and ENTRIESREAD only where the target has them', () => {
  const meta = {
    length: 2,
    lastId: b('9-1'),
    entriesAdded: 5,
    maxDeletedId: b('4-0'),
    groups: [
      { name: b('g'), lastDeliveredId: b('3-0'), entriesRead: 2, consumers: [b('alice')], pendingCount: 1 },
    ],
  };
  assert.deepEqual(text(streamMetaCommands(b('s'), meta, featuresForVersion('7.0.15'))), [
    ['XSETID', 's', '9-1', 'ENTRIESADDED', '5', 'MAXDELETEDID', '4-0'],
    ['XGROUP', 'CREATE', 's', 'g', '3-0', 'ENTRIESREAD', '2'],
    ['XGROUP', 'CREATECONSUMER', 's', 'g', 'alice'],
  ]);
  assert.deepEqual(text(streamMetaCommands(b('s'), meta, featuresForVersion('6.0.9'))), [
    ['XSETID', 's', '9-1'],
    ['XGROUP', 'CREATE', 's', 'g', '3-0'],
  ]);
  assert.deepEqual(
    text(
      pendingCommands(b('s'), b('g'), [{ id: b('3-0'), consumer: b('alice'), idleMs: 500, deliveries: 3 }]),
    ),
    [['XCLAIM', 's', 'g', 'alice', '0', '3-0', 'IDLE', '500', 'RETRYCOUNT', '3', 'FORCE', 'JUSTID']],
  );
});

test('nextStreamId is the smallest id after the given one', () => {
  assert.equal(nextStreamId(b('5-3')).toString(), '5-4');
  assert.equal(nextStreamId(b('5')).toString(), '5-1');
  assert.equal(nextStreamId(b('5-18446744073709551615')).toString(), '6-0');
});
