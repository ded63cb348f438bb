import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  CheckpointWriter,
  checkFingerprint,
  fileCheckpointStore,
} from '../../../../src/engine/copy/checkpoint.js';
import {
  type CheckpointStore,
  type CopyCheckpoint,
  zeroCounters,
} from '../../../../src/engine/copy/types.js';

const dir = mkdtempSync(join(tmpdir(), 'mb-cp-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function checkpoint(cursor: string): CopyCheckpoint {
  return {
    version: 1,
    dbs: [{ db: 0, cursor, done: false }],
    functionsDone: true,
    counters: { ...zeroCounters(), keysCopied: Number(cursor) },
    fingerprint: { source: 'redis://a:6379', target: 'redis://b:6379', dbs: 'all', match: null },
    targetPrepared: true,
    policy: 'refuse',
    functions: null,
    complete: false,
    errors: [],
    errorsOmitted: 0,
    startedAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
  };
}

test('file store: missing file loads as undefined, saves atomically and loads back', async () => {
  const file = join(dir, 'a.json');
  const store = fileCheckpointStore(file);
  assert.equal(await store.load(), undefined);
  await store.save(checkpoint('42'));
  assert.deepEqual(await store.load(), checkpoint('42'));
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('a.json')),
    ['a.json'],
    'no temporary file left',
  );
});

test('file store: garbage and foreign JSON are refused with the file name', async () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{not json');
  await assert.rejects(fileCheckpointStore(bad).load(), /bad\.json is not valid JSON/);
  writeFileSync(bad, JSON.stringify({ version: 2 }));
  await assert.rejects(fileCheckpointStore(bad).load(), /not a migration-buddy copy checkpoint/);
});

test('fingerprint: resuming another copy is refused, saying what differs', () => {
  const fp = checkpoint('0').fingerprint;
  checkFingerprint(fp, { ...fp });
  assert.throws(
    () => checkFingerprint(fp, { ...fp, target: 'redis://c:6379', dbs: [0] }),
    /another copy \(target was redis:\/\/b:6379; --db was "all"\)/,
  );
});

test('writer: saves never overlap and the newest snapshot is the one left', async () => {
  const saved: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const slow: CheckpointStore = {
    load: async () => undefined,
    save: async (cp) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 5));
      saved.push(cp.dbs[0]!.cursor);
      running--;
    },
  };
  const writer = new CheckpointWriter(slow);
  for (let i = 1; i <= 20; i++) writer.save(checkpoint(String(i)));
  await writer.flush();
  assert.equal(maxRunning, 1);
  assert.equal(saved.at(-1), '20');
  assert.ok(saved.length < 20, `intermediate snapshots are dropped (${saved.length} writes)`);
});

test('writer: a failed save is reported at flush and stops later saves', async () => {
  const failing: CheckpointStore = {
    load: async () => undefined,
    save: async () => {
      throw new Error('disk full');
    },
  };
  const writer = new CheckpointWriter(failing);
  writer.save(checkpoint('1'));
  await assert.rejects(writer.flush(), /disk full/);
  writer.save(checkpoint('2'));
  await new Promise((r) => setTimeout(r, 5));
  assert.throws(() => writer.save(checkpoint('3')), /disk full/);
});
