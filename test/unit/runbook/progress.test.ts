import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StepProgress } from '../../../src/runbook/model.js';
import { ProgressThrottle } from '../../../src/runbook/progress.js';

describe('progress throttle', () => {
  it('passes at most one update per interval and never loses the last one', async () => {
    const sent: StepProgress[] = [];
    const t = new ProgressThrottle(50, (p) => {
      sent.push(p);
    });
    for (let i = 1; i <= 1000; i++) t.report({ keysDone: i });
    assert.equal(sent.length, 1, 'the first goes out at once, the rest wait');
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(sent.length, 2, 'one more after the interval: the latest');
    assert.equal(sent[1]!.keysDone, 1000);
    t.report({ keysDone: 1001 });
    await t.flush();
    assert.equal(sent.at(-1)!.keysDone, 1001);
    t.report({ keysDone: 2000 });
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(sent.at(-1)!.keysDone, 1001, 'nothing after flush');
  });

  it('flush(false) drops what is pending', async () => {
    const sent: StepProgress[] = [];
    const t = new ProgressThrottle(1000, (p) => {
      sent.push(p);
    });
    t.report({ keysDone: 1 });
    t.report({ keysDone: 2 });
    await t.flush(false);
    assert.deepEqual(
      sent.map((p) => p.keysDone),
      [1],
    );
  });
});
