// The planner's version rules across releases and flavors (probe/rdb-version.ts tables): which
// strategy each pair gets, and the reason replication and MIGRATE are refused where they are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planMigration } from '../../../src/planner/plan.js';
import type { ProbeResult } from '../../../src/probe/types.js';
import { options, source, target } from './fixtures.js';

const servers: Record<string, ProbeResult['server'] extends infer S ? Partial<S> : never> = {
  'redis-6.2': { version: '6.2.14', flavor: 'redis', rdbVersion: 9 },
  'redis-7.0': { version: '7.0.15', flavor: 'redis', rdbVersion: 10 },
  'redis-7.2': { version: '7.2.5', flavor: 'redis', rdbVersion: 11 },
  'redis-8.0': { version: '8.0.2', flavor: 'redis', rdbVersion: 12 },
  'valkey-8.1': { version: '7.2.4', flavor: 'valkey', flavorVersion: '8.1.1', rdbVersion: 11 },
  'valkey-9.0': { version: '7.2.4', flavor: 'valkey', flavorVersion: '9.0.3', rdbVersion: 80 },
};

function plan(from: string, to: string, strategy: 'auto' | 'dump-restore' = 'auto') {
  return planMigration(
    source({ server: servers[from] }),
    target({ server: servers[to] }),
    options({ strategy }),
  );
}
const reasons = (p: ReturnType<typeof plan>, s: string) =>
  p.assessments.find((a) => a.strategy === s)?.reasons.join('; ') ?? '';

test('upgrades and same-format pairs replicate; the DUMP copy needs no by-type fallback', () => {
  for (const [from, to] of [
    ['redis-6.2', 'redis-7.0'],
    ['redis-7.0', 'redis-8.0'],
    ['redis-7.0', 'valkey-8.1'],
    ['valkey-8.1', 'redis-8.0'],
    ['valkey-8.1', 'redis-7.2'],
    ['valkey-8.1', 'valkey-9.0'],
  ]) {
    const p = plan(from!, to!);
    assert.equal(p.strategy, 'replication', `${from} -> ${to}: ${reasons(p, 'replication')}`);
    const copy = plan(from!, to!, 'dump-restore');
    assert.equal(copy.copyMode, 'dump', `${from} -> ${to}: ${copy.copyModeReasons.join()}`);
  }
});

test('downgrades: replication and MIGRATE refused naming both formats, dump-restore copies by type', () => {
  const cases: [string, string, RegExp][] = [
    ['redis-8.0', 'redis-7.0', /target runs redis 7\.0\.15, older than the source's 8\.0\.2/],
    ['valkey-8.1', 'redis-7.0', /target's RDB format 10 is older than the source's 11/],
    ['redis-8.0', 'valkey-8.1', /target's RDB format 11 is older than the source's 12/],
    ['valkey-9.0', 'valkey-8.1', /RDB format 11 is older than the source's 80/],
    ['valkey-9.0', 'redis-8.0', /RDB format 12 is older than the source's 80/],
    ['redis-7.0', 'redis-6.2', /target runs redis 6\.2\.14, older than the source's 7\.0\.15/],
  ];
  for (const [from, to, why] of cases) {
    const p = plan(from, to);
    assert.equal(p.strategy, 'dump-restore', `${from} -> ${to}`);
    assert.equal(p.copyMode, 'by-type', `${from} -> ${to}`);
    assert.match(reasons(p, 'replication'), why, `${from} -> ${to}`);
    assert.match(reasons(p, 'migrate'), /MIGRATE sends DUMP payloads the target rejects/, `${from} -> ${to}`);
  }
});

test("Redis 7.4+ -> Valkey 9: a higher RDB number, yet Valkey refuses Redis's format", () => {
  const p = plan('redis-8.0', 'valkey-9.0');
  assert.equal(p.strategy, 'dump-restore');
  assert.equal(p.copyMode, 'by-type');
  assert.match(p.copyModeReasons.join(), /valkey 9\.0\.3\) does not take the source's 12 \(redis 8\.0\.2\)/);
  assert.equal(p.assessments.find((a) => a.strategy === 'replication')?.viable, false);
});

test("module keys found by the probe's sample block a downgrade, in the databases copied only", () => {
  const vectorSets = (db: number) => ({
    server: servers['redis-8.0'],
    dbs: { 0: 10, 5: 10 },
    modules: [{ name: 'vectorset', version: 1 }],
    moduleKeys: { sampled: 20, keys: 20, types: [{ db, type: 'vectorset', keys: 2 }] },
  });
  const p = planMigration(source(vectorSets(0)), target({ server: servers['valkey-8.1'] }), options());
  assert.equal(p.strategy, null);
  assert.match(
    p.blockers.find((b) => b.code === 'module-keys-cannot-cross')?.message ?? '',
    /module types \(vectorset\): they travel only as DUMP payloads, which the target's older RDB format 11 rejects, and cannot be copied type by type/,
  );
  // Same-version target with the module: no blocker.
  const same = planMigration(
    source(vectorSets(0)),
    target({ server: servers['redis-8.0'], modules: [{ name: 'vectorset', version: 1 }] }),
    options(),
  );
  assert.deepEqual(same.blockers, []);
  // The vector sets are in db 5 and only db 0 is copied: nothing of a module type crosses.
  const db0 = planMigration(
    source(vectorSets(5)),
    target({ server: servers['valkey-8.1'] }),
    options({ dbs: [0] }),
  );
  assert.equal(
    db0.blockers.some((b) => b.code === 'module-keys-cannot-cross'),
    false,
    JSON.stringify(db0.blockers),
  );
  // With none found, the warning says how complete the sample was.
  const none = planMigration(
    source({ ...vectorSets(0), moduleKeys: { sampled: 20, keys: 20, types: [] } }),
    target({ server: servers['valkey-8.1'] }),
    options({ strategy: 'dump-restore' }),
  );
  assert.match(
    none.warnings.find((w) => w.code === 'source-modules')?.message ?? '',
    /none of the source's 20 keys is of a module type/,
  );
});
