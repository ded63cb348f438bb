import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteBudget } from '../../../../src/engine/copy/budget.js';

test('grants up to the limit, then waits, in order', async () => {
  const budget = new ByteBudget(100);
  assert.equal(await budget.acquire(60), 60);
  const order: string[] = [];
  const second = budget.acquire(50).then((n) => order.push(`second:${n}`));
  const third = budget.acquire(10).then((n) => order.push(`third:${n}`));
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(order, [], 'the third waits behind the second even though it would fit (FIFO)');
  budget.release(60);
  await Promise.all([second, third]);
  assert.deepEqual(order, ['second:50', 'third:10']);
  assert.equal(budget.inFlight, 60);
});

test('a request bigger than the limit is capped and granted alone', async () => {
  const budget = new ByteBudget(100);
  const a = await budget.acquire(30);
  let granted = 0;
  const big = budget.acquire(1_000).then((n) => {
    granted = n;
  });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(granted, 0);
  budget.release(a);
  await big;
  assert.equal(granted, 100);
  budget.release(granted);
  assert.equal(budget.inFlight, 0);
});
