import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPlan } from '../../../src/planner/format.js';
import { planMigration } from '../../../src/planner/plan.js';
import { formatBytes, formatDuration } from '../../../src/planner/units.js';
import { compareVersions } from '../../../src/planner/versions.js';
import { MANAGED_BLOCKS, MB, options, source, target } from './fixtures.js';

test('a runnable plan: strategy, ruled-out reasons, warnings and gated steps, as plain text', () => {
  const text = formatPlan(
    planMigration(
      source({
        url: 'redis://app:***@old.example:6379',
        notifyKeyspaceEvents: 'KEA',
        missing: { PSYNC: 'unknown command (renamed or disabled)' },
      }),
      target({ missing: MANAGED_BLOCKS }),
      options(),
    ),
  );
  assert.match(text, /^Source: old \(redis:\/\/app:\*\*\*@old\.example:6379\), version 7\.0\.15$/m);
  assert.match(text, /^Strategy: dump-restore, copying DUMP payloads, following changes live$/m);
  assert.match(
    text,
    /^Ruled out:\n {2}- replication:\n {6}REPLICAOF is not available on target: unknown command/m,
  );
  assert.match(text, /^ {2}2\. Copy the keys \[2-bulk_copy\] \(needs approval\)$/m);
  assert.match(text, /^ {2}5\. Pause source writes \[5-write_pause\] \(needs approval, irreversible\)$/m);
  assert.match(text, /^Warnings:$/m);
  assert.match(text, /^Also possible: migrate \(choose with --strategy\)$/m);
  assert.doesNotMatch(text, /Blockers/);
  assert.doesNotMatch(text, /\x1b\[/);
});

test('a psync plan says why auto took it', () => {
  const text = formatPlan(planMigration(source(), target({ missing: MANAGED_BLOCKS }), options()));
  assert.match(text, /^Strategy: psync$/m);
  assert.match(
    text,
    /^Why: replication is ruled out \(REPLICAOF is not available on target: unknown command \(renamed or disabled\)\); source allows PSYNC: the tool replicates it/m,
  );
  assert.match(text, /^ {2}2\. Full sync from the source \[2-bulk_copy\] \(needs approval\)$/m);
  assert.match(text, /^Also possible: dump-restore, migrate \(choose with --strategy\)$/m);
});

test('a blocked plan says what blocks it and what would run', () => {
  const text = formatPlan(
    planMigration(
      source({ memory: { usedBytes: 300 * MB } }),
      target({ memory: { maxmemoryBytes: 100 * MB } }),
      options(),
    ),
  );
  assert.match(text, /^Strategy: none, blocked \(replication once the blockers are resolved\)$/m);
  assert.match(
    text,
    /^Blockers \(nothing runs until these are fixed\):\n {2}- target maxmemory is 100\.0 MiB/m,
  );
  assert.doesNotMatch(text, /^Steps:/m);
});

test('a by-type plan says why', () => {
  const text = formatPlan(
    planMigration(source(), target({ missing: MANAGED_BLOCKS }), options({ byType: true })),
  );
  assert.match(text, /copying type by type/);
  assert.match(text, /^ {2}type by type because --by-type was asked$/m);
});

test('versions compare numerically', () => {
  assert.ok(compareVersions('7.0.15', '7.2.4') < 0);
  assert.ok(compareVersions('7.10.0', '7.9.9') > 0);
  assert.equal(compareVersions('7.2', '7.2.0'), 0);
  assert.ok(compareVersions('8.0.0', '7.4.2') > 0);
});

test('durations and sizes read naturally', () => {
  assert.equal(formatDuration(0), '0 s');
  assert.equal(formatDuration(1.5), '1.5 s');
  assert.equal(formatDuration(45), '45 s');
  assert.equal(formatDuration(600), '10 min');
  assert.equal(formatDuration(7500), '2 h 5 min');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(64 * MB), '64.0 MiB');
  assert.equal(formatBytes(1536 * MB), '1.5 GiB');
});
