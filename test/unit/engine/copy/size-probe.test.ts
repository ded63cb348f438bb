import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideSizeProbe } from '../../../../src/engine/copy/size-probe.js';

const MiB = 1024 * 1024;

test("'always' probes every key, whatever the source's memory", () => {
  for (const memory of [{}, { usedMemory: MiB, maxMemory: 0 }, { usedMemory: MiB, maxMemory: 1024 * MiB }]) {
    const d = decideSizeProbe('always', memory);
    assert.equal(d.perKey, true, JSON.stringify(memory));
    assert.match(d.reason, /asked for/);
  }
});

test('auto probes when the memory figures are missing', () => {
  for (const memory of [{}, { usedMemory: 10 * MiB }, { maxMemory: 1024 * MiB }]) {
    const d = decideSizeProbe('auto', memory);
    assert.equal(d.perKey, true, JSON.stringify(memory));
    assert.match(d.reason, /not readable/);
  }
});

test('auto probes when the source has no maxmemory (0)', () => {
  const d = decideSizeProbe('auto', { usedMemory: MiB, maxMemory: 0 });
  assert.equal(d.perKey, true);
  assert.match(d.reason, /^the source has no maxmemory/);
});

test('the reason names the side it was asked about', () => {
  assert.match(decideSizeProbe('auto', { usedMemory: MiB, maxMemory: 0 }, 'target').reason, /^the target /);
  const roomy = decideSizeProbe('auto', { usedMemory: MiB, maxMemory: 1024 * MiB }, 'target');
  assert.match(roomy.reason, /the target's free memory/);
});

test('auto does not probe when maxmemory leaves room for twice the used memory, and says why', () => {
  const d = decideSizeProbe('auto', { usedMemory: 100 * MiB, maxMemory: 1024 * MiB });
  assert.equal(d.perKey, false);
  assert.match(d.reason, /maxmemory 1024 MiB/);
  assert.match(d.reason, /used 100 MiB/);
});

test('auto at exactly twice the used memory free: no probe; one byte less: probe', () => {
  const used = 100 * MiB;
  assert.equal(decideSizeProbe('auto', { usedMemory: used, maxMemory: 3 * used }).perKey, false);
  const tight = decideSizeProbe('auto', { usedMemory: used, maxMemory: 3 * used - 1 });
  assert.equal(tight.perKey, true);
  assert.match(tight.reason, /maxmemory 300 MiB, used 100 MiB/);
});

test('auto probes when the source is short of room, and the reason gives the figures', () => {
  const d = decideSizeProbe('auto', { usedMemory: 100 * MiB, maxMemory: 150 * MiB });
  assert.equal(d.perKey, true);
  assert.match(d.reason, /under twice its used memory/);
  assert.match(d.reason, /maxmemory 150 MiB/);
  assert.match(d.reason, /used 100 MiB/);
  // Over maxmemory already (possible right after lowering it): probe.
  assert.equal(decideSizeProbe('auto', { usedMemory: 200 * MiB, maxMemory: 150 * MiB }).perKey, true);
});

test('auto with an empty source and a maxmemory: no probe', () => {
  assert.equal(decideSizeProbe('auto', { usedMemory: 0, maxMemory: MiB }).perKey, false);
});
