import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InFlight } from '../../../src/slack/in-flight.js';

test('calls through a wrapped object are counted until they settle; idle waits, bounded', async () => {
  const inFlight = new InFlight();
  let release!: () => void;
  const handlers = inFlight.wrap({
    slow: () =>
      new Promise<string>((r) => {
        release = () => r('done');
      }),
    failing: async () => {
      throw new Error('no');
    },
  });
  const slow = handlers.slow();
  await assert.rejects(handlers.failing(), /no/);
  assert.equal(inFlight.size, 1);
  assert.equal(await inFlight.idle(20), false, 'gives up after the bound');
  release();
  assert.equal(await slow, 'done');
  assert.equal(await inFlight.idle(1000), true);
  assert.equal(inFlight.size, 0);
});
