import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Wakeup } from '../../../src/util/wakeup.js';

describe('Wakeup', () => {
  it('waits the whole interval when nobody wakes it', async () => {
    const w = new Wakeup();
    const t0 = performance.now();
    await w.wait(50);
    assert.ok(performance.now() - t0 >= 45);
  });

  it('a wake ends the wait that is running', async () => {
    const w = new Wakeup();
    setTimeout(() => w.wake(), 10);
    const t0 = performance.now();
    await w.wait(60_000);
    assert.ok(performance.now() - t0 < 30_000);
  });

  it('a wake while nobody waits ends the next wait at once, and only that one', async () => {
    const w = new Wakeup();
    w.wake();
    w.wake();
    await w.wait(60_000);
    let second = false;
    void w.wait(60_000).then(() => {
      second = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(second, false, 'the nudge was used up by the first wait');
    w.wake();
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(second, true);
  });

  it('an abort ends the wait without an error', async () => {
    const w = new Wakeup();
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('stop')), 10);
    await w.wait(60_000, abort.signal);
    await w.wait(60_000, abort.signal);
  });
});
