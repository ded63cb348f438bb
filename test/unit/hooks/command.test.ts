// A command hook returns as soon as its program is done and its pipes are closed: it does not
// wait out the grace period kept for a background child that holds the pipes open.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCommandHook } from '../../../src/hooks/command.js';
import type { HookInvocation } from '../../../src/hooks/types.js';
import { parseEndpointUrl } from '../../../src/redis/endpoint.js';

const invocation: HookInvocation = {
  hook: 'flip',
  point: 'repoint',
  migrationId: 'm-1',
  step: { id: 's-1', kind: 'repoint', title: 'Repoint' },
  strategy: 'dump-restore',
  source: parseEndpointUrl('redis://127.0.0.1:6390/0', 'old'),
  target: parseEndpointUrl('redis://127.0.0.1:6391/0', 'new'),
};

/** The median of a few runs: one slow start on a busy machine does not decide, nor one lucky run. */
async function median(command: string, runs = 5) {
  const outcomes = [];
  for (let i = 0; i < runs; i++) {
    const outcome = await runCommandHook({ command, gated: false }, invocation);
    assert.equal(outcome.ok, true, outcome.error);
    outcomes.push(outcome);
  }
  return outcomes.sort((a, b) => a.durationMs - b.durationMs)[Math.floor(runs / 2)]!;
}

describe('command hook', () => {
  it('running an outside program (/bin/true) returns without waiting for the 500 ms pipe grace', async () => {
    const outcome = await median('/bin/true');
    assert.ok(outcome.durationMs < 300, `took ${outcome.durationMs} ms (median of 5)`);
  });

  it('still reads all of the output of a program that exits right after writing it', async () => {
    const outcome = await median('printf "first\\n"; /bin/echo second; /bin/echo third >&2');
    assert.equal(outcome.stdout, 'first\nsecond\n');
    assert.equal(outcome.stderr, 'third\n');
  });

  it('a background child holding the pipes open delays it by the grace period only', async () => {
    const started = performance.now();
    const outcome = await runCommandHook({ command: 'sleep 3 & echo started', gated: false }, invocation);
    assert.equal(outcome.ok, true, outcome.error);
    assert.equal(outcome.stdout, 'started\n');
    assert.ok(performance.now() - started < 2500, 'did not wait for the background sleep');
  });
});
