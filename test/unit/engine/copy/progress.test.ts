import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fatalKind, isPayloadRejection } from '../../../../src/engine/copy/errors.js';
import { ProgressTracker } from '../../../../src/engine/copy/progress.js';
import { type CopyProgress, zeroCounters } from '../../../../src/engine/copy/types.js';
import { RespError } from '../../../../src/engine/resp/reply.js';

test('progress: throttled, forced events always go out, ETA against the total', async () => {
  const events: CopyProgress[] = [];
  const tracker = new ProgressTracker(1000, zeroCounters(), (p) => events.push(p));
  tracker.update('keys', 0, { ...zeroCounters(), keysCopied: 10 });
  tracker.update('keys', 0, { ...zeroCounters(), keysCopied: 20 });
  assert.equal(events.length, 1, 'the second update came too soon');
  await new Promise((r) => setTimeout(r, 60));
  tracker.update('keys', 0, { ...zeroCounters(), keysCopied: 500 }, true);
  const last = events.at(-1)!;
  assert.equal(last.totalKeys, 1000);
  assert.ok(last.keysPerSecond > 0);
  assert.ok(last.etaSeconds !== null && last.etaSeconds >= 0);
  tracker.update('done', null, { ...zeroCounters(), keysCopied: 1000 }, true);
  assert.equal(events.at(-1)!.etaSeconds, 0);
});

test('progress: a resumed run rates only its own keys', async () => {
  const events: CopyProgress[] = [];
  const tracker = new ProgressTracker(1_000_000, { ...zeroCounters(), keysCopied: 900_000 }, (p) =>
    events.push(p),
  );
  await new Promise((r) => setTimeout(r, 100));
  tracker.update('keys', 0, { ...zeroCounters(), keysCopied: 900_010 }, true);
  assert.ok(events[0]!.keysPerSecond < 1000, `${events[0]!.keysPerSecond} keys/s`);
});

test('error replies: what stops a run and what falls back', () => {
  assert.equal(fatalKind(new RespError("OOM command not allowed when used memory > 'maxmemory'.")), 'oom');
  assert.equal(
    fatalKind(new RespError("READONLY You can't write against a read only replica.")),
    'unavailable',
  );
  assert.equal(fatalKind(new RespError('LOADING Redis is loading the dataset in memory')), 'unavailable');
  assert.equal(
    fatalKind(new RespError('NOPERM this user has no permissions to access one of the keys')),
    null,
  );
  assert.equal(fatalKind(new RespError('ERR Bad data format')), null);
  assert.equal(isPayloadRejection(new RespError('ERR DUMP payload version or checksum are wrong')), true);
  assert.equal(isPayloadRejection(new RespError('ERR Bad data format')), false);
});
