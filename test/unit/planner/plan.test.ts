import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planMigration } from '../../../src/planner/plan.js';
import type { Plan, PlanOptions, StepKind, StrategyName } from '../../../src/planner/types.js';
import { MANAGED_BLOCKS, MB, options, type ProbeOverrides, source, target } from './fixtures.js';

interface Case {
  name: string;
  source?: ProbeOverrides;
  target?: ProbeOverrides;
  options?: Partial<PlanOptions>;
  expect: {
    strategy?: StrategyName | null;
    candidate?: StrategyName | null;
    copyMode?: Plan['copyMode'];
    liveSync?: Plan['liveSync'];
    /** Exact set of blocker codes (default: none). */
    blockers?: string[];
    /** Each must match some blocker message. */
    blockerText?: RegExp[];
    /** Warning codes that must be present / absent. */
    warnings?: string[];
    noWarnings?: string[];
    warningText?: RegExp[];
    /** A reason of each named strategy must match; the strategy must be ruled out. */
    ruledOut?: Partial<Record<StrategyName, RegExp>>;
    viable?: StrategyName[];
    stepKinds?: StepKind[];
    check?: (plan: Plan) => void;
  };
}

const REPLICATION_STEPS: StepKind[] = [
  'preflight',
  'start_replication',
  'wait_sync',
  'verify',
  'make_writable',
  'repoint',
  'drain_check',
  'promote',
  'post_verify',
];
const DUMP_RESTORE_LIVE: StepKind[] = [
  'preflight',
  'bulk_copy',
  'live_sync',
  'verify',
  'write_pause',
  'repoint',
  'resume_writes',
  'post_verify',
];
const DUMP_RESTORE_PAUSE_FIRST: StepKind[] = [
  'preflight',
  'write_pause',
  'bulk_copy',
  'verify',
  'repoint',
  'resume_writes',
  'post_verify',
];
const MIGRATE_STEPS: StepKind[] = [
  'preflight',
  'bulk_copy',
  'live_sync',
  'verify',
  'write_pause',
  'repoint',
  'resume_writes',
  'post_verify',
];

/** A managed target: no REPLICAOF, CONFIG, MIGRATE, SYNC. */
const managed: ProbeOverrides = { missing: MANAGED_BLOCKS };
/** A source that forbids PSYNC too: auto goes on to dump-restore for a target without REPLICAOF. */
const noPsync = (o: ProbeOverrides = {}): ProbeOverrides => ({
  ...o,
  missing: { ...o.missing, PSYNC: 'unknown command (renamed or disabled)' },
});
const PSYNC_STEPS: StepKind[] = [
  'preflight',
  'bulk_copy',
  'live_sync',
  'verify',
  'write_pause',
  'repoint',
  'resume_writes',
  'post_verify',
];
const downgrade: ProbeOverrides = { server: { version: '7.2.4', rdbVersion: 11 } };
const stepOf = (plan: Plan, kind: StepKind) => {
  const s = plan.steps.find((x) => x.kind === kind);
  assert.ok(s, `no ${kind} step`);
  return s;
};

const cases: Case[] = [
  {
    name: 'managed target without REPLICAOF, source allows PSYNC: psync, and the plan says why',
    target: managed,
    expect: {
      strategy: 'psync',
      ruledOut: {
        replication: /^REPLICAOF is not available on target: unknown command \(renamed or disabled\)$/,
      },
      viable: ['psync', 'dump-restore', 'migrate'],
      stepKinds: PSYNC_STEPS,
      check: (plan) => {
        assert.match(
          plan.because ?? '',
          /^replication is ruled out \(REPLICAOF is not available on target[^)]*\)\); source allows PSYNC: the tool replicates it/,
        );
        assert.equal(plan.liveSync, null);
        assert.equal(plan.copyMode, null);
        const bulk = stepOf(plan, 'bulk_copy');
        assert.equal(bulk.params.method, 'psync');
        assert.equal(bulk.needsApproval, true);
        assert.equal(bulk.params.onNonEmptyTarget, 'refuse');
        assert.equal(stepOf(plan, 'live_sync').params.feed, 'psync');
        assert.equal(stepOf(plan, 'verify').params.requireBacklogEmpty, true);
        assert.equal(stepOf(plan, 'write_pause').params.drainTo, 'master_repl_offset');
      },
    },
  },
  {
    name: 'a target that allows REPLICAOF: replication before psync, and the plan says why',
    expect: {
      strategy: 'replication',
      viable: ['replication', 'psync'],
      check: (plan) => assert.equal(plan.because, 'replication is the first possible strategy'),
    },
  },
  {
    name: '--strategy psync where the source forbids PSYNC: refused with the probe reason',
    source: noPsync(),
    target: managed,
    options: { strategy: 'psync' },
    expect: {
      strategy: null,
      blockers: ['strategy-not-viable'],
      blockerText: [
        /^psync was asked for but is not possible: PSYNC is not available on source: unknown command/,
      ],
      ruledOut: { psync: /^PSYNC is not available on source: .*as a replica/ },
    },
  },
  {
    name: '--strategy psync with --match or --by-type: refused, psync mirrors every write',
    target: managed,
    options: { strategy: 'psync', match: 'user:*', byType: true },
    expect: {
      strategy: null,
      blockers: ['strategy-not-viable'],
      ruledOut: { psync: /cannot honour --match "user:\*"/ },
      check: (plan) => {
        const a = plan.assessments.find((x) => x.strategy === 'psync')!;
        assert.ok(
          a.reasons.some((r) => /--by-type/.test(r)),
          a.reasons.join(),
        );
      },
    },
  },
  {
    name: '--strategy psync onto an older target: taken, the full sync writes type by type (a warning says so)',
    source: downgrade,
    target: managed,
    options: { strategy: 'psync' },
    expect: {
      strategy: 'psync',
      check: (plan) => {
        const w = plan.warnings.find((x) => x.code === 'psync-by-type');
        assert.ok(w, plan.warnings.map((x) => x.code).join());
        assert.match(
          w.message,
          /older than the source's 7\.2\.4: the full sync writes the RDB's keys type by type/,
        );
      },
    },
  },
  {
    name: 'psync asked for on a plain pair: taken, and the plan says it was asked for',
    options: { strategy: 'psync' },
    expect: {
      strategy: 'psync',
      check: (plan) =>
        assert.match(plan.because ?? '', /^asked for \(--strategy psync\); source allows PSYNC/),
    },
  },
  {
    name: 'psync without CLIENT PAUSE on the source: a person stops the writes, warned',
    source: { missing: { 'CLIENT PAUSE': 'ACL: no permission' } },
    target: managed,
    expect: {
      strategy: 'psync',
      warnings: ['no-write-pause'],
      check: (plan) => assert.equal(stepOf(plan, 'write_pause').params.method, 'manual'),
    },
  },
  {
    name: 'psync with --flush-target on a non-empty target: the approved full sync empties it first',
    target: { ...managed, dbs: { 0: 5 } },
    options: { onNonEmptyTarget: 'flush' },
    expect: {
      strategy: 'psync',
      check: (plan) => {
        const bulk = stepOf(plan, 'bulk_copy');
        assert.equal(bulk.params.flushTarget, true);
        assert.equal(bulk.irreversible, true);
        assert.match(bulk.description, /^Empty db 0 on the target, then connect/);
      },
    },
  },
  {
    name: 'two plain servers: replication, no blockers',
    expect: {
      strategy: 'replication',
      viable: ['replication', 'dump-restore', 'migrate'],
      stepKinds: REPLICATION_STEPS,
    },
  },
  {
    name: 'managed target without REPLICAOF: dump-restore, with the probe reason for replication',
    source: noPsync(),
    target: managed,
    expect: {
      strategy: 'dump-restore',
      copyMode: 'dump',
      ruledOut: {
        replication: /^REPLICAOF is not available on target: unknown command \(renamed or disabled\)$/,
      },
      viable: ['dump-restore', 'migrate'],
      stepKinds: DUMP_RESTORE_LIVE,
    },
  },
  {
    name: 'downgrade 7.2 -> 7.0: by-type dump-restore, replication and MIGRATE ruled out',
    source: downgrade,
    expect: {
      strategy: 'dump-restore',
      copyMode: 'by-type',
      ruledOut: {
        replication: /target runs redis 7\.0\.15, older than the source's 7\.2\.4/,
        migrate: /RDB format 10 \([^)]*\) is older than the source's 11/,
      },
      warnings: ['by-type-copy'],
      check: (plan) => {
        assert.match(plan.copyModeReasons.join(), /RDB format 10 .* older than the source's 11/);
        assert.equal(stepOf(plan, 'bulk_copy').params.copyMode, 'by-type');
        assert.equal(stepOf(plan, 'preflight').params.restoreCanary, false);
      },
    },
  },
  {
    name: 'target maxmemory below source used memory: blocked, both sizes in MB',
    source: { memory: { usedBytes: 250 * MB } },
    target: { memory: { maxmemoryBytes: 100 * MB } },
    expect: {
      strategy: null,
      candidate: 'replication',
      blockers: ['target-too-small'],
      blockerText: [/100\.0 MiB.*250\.0 MiB/],
      stepKinds: [],
    },
  },
  {
    name: 'target smaller than the source but only part is copied (--match): a warning',
    source: { memory: { usedBytes: 250 * MB } },
    target: { memory: { maxmemoryBytes: 100 * MB } },
    options: { match: 'user:*' },
    expect: { strategy: 'dump-restore', warnings: ['target-memory-partial'] },
  },
  {
    name: 'evicting policy allkeys-lru on a limited target: blocked, says noeviction',
    target: { memory: { maxmemoryBytes: 1024 * MB, policy: 'allkeys-lru' } },
    expect: {
      strategy: null,
      blockers: ['target-evicting-policy'],
      blockerText: [/allkeys-lru.*noeviction/],
    },
  },
  {
    name: 'volatile-lru evicts too',
    target: { memory: { maxmemoryBytes: 1024 * MB, policy: 'volatile-lru' } },
    expect: { strategy: null, blockers: ['target-evicting-policy'] },
  },
  {
    name: 'evicting policy without a memory limit never fires: a warning only',
    target: { memory: { maxmemoryBytes: 0, policy: 'allkeys-lru' } },
    expect: { strategy: 'replication', warnings: ['target-policy-inactive'] },
  },
  {
    name: 'non-empty target, refuse: blocked, suggests --replace and --flush-target',
    source: noPsync(),
    target: { dbs: { 0: 5 } },
    expect: {
      strategy: null,
      candidate: 'dump-restore',
      blockers: ['target-not-empty'],
      blockerText: [/5 keys .*db 0: 5 keys.*--replace.*--flush-target/],
      ruledOut: { replication: /discards the whole target, which holds 5 keys: only --flush-target/ },
    },
  },
  {
    name: 'non-empty target, --replace: dump-restore overwrites (replication would wipe the rest)',
    source: noPsync(),
    target: { dbs: { 0: 5 } },
    options: { onNonEmptyTarget: 'replace' },
    expect: {
      strategy: 'dump-restore',
      warnings: ['target-replace'],
      ruledOut: { replication: /only --flush-target/ },
      check: (plan) => {
        const bulk = stepOf(plan, 'bulk_copy');
        assert.equal(bulk.params.replace, true);
        assert.equal(bulk.params.flushTarget, false);
        assert.equal(bulk.irreversible, true);
      },
    },
  },
  {
    name: 'non-empty target, --flush-target: replication, destructive warning',
    target: { dbs: { 0: 5 } },
    options: { onNonEmptyTarget: 'flush' },
    expect: {
      strategy: 'replication',
      warnings: ['target-flush'],
      warningText: [/discards everything on the target \(5 keys/],
      check: (plan) => assert.equal(stepOf(plan, 'start_replication').params.discardsTargetKeys, 5),
    },
  },
  {
    name: '--flush-target with dump-restore flushes the selected dbs in the approved bulk copy',
    source: noPsync(),
    target: { ...managed, dbs: { 0: 5 } },
    options: { onNonEmptyTarget: 'flush' },
    expect: {
      strategy: 'dump-restore',
      warnings: ['target-flush'],
      warningText: [/db 0 on the target are emptied/],
      check: (plan) => {
        const bulk = stepOf(plan, 'bulk_copy');
        assert.equal(bulk.params.flushTarget, true);
        assert.equal(bulk.needsApproval, true);
        assert.equal(bulk.irreversible, true);
        assert.match(bulk.description, /^Empty db 0 on the target/);
      },
    },
  },
  {
    name: 'target keys only in a db not copied: no blocker, but replication would wipe them',
    source: noPsync(),
    target: { dbs: { 5: 3 } },
    expect: {
      strategy: 'dump-restore',
      ruledOut: { replication: /discards the whole target, which holds 3 keys/ },
    },
  },
  {
    name: 'cluster-mode source without a topology (a probe from before cluster probing): probe again',
    source: { server: { mode: 'cluster' } },
    expect: {
      strategy: null,
      candidate: 'dump-restore',
      blockers: ['cluster-topology-unknown'],
      blockerText: [/source is a Redis Cluster but its probe has no topology/],
      ruledOut: {
        replication: /source is a Redis Cluster: a replica of one node receives only that primary/,
        migrate: /MIGRATE executors move keys between two servers only/,
      },
      viable: ['dump-restore'],
    },
  },
  {
    name: 'explicit replication that is not viable: strategy null and a blocker saying why',
    target: managed,
    options: { strategy: 'replication' },
    expect: {
      strategy: null,
      candidate: null,
      blockers: ['strategy-not-viable'],
      blockerText: [/^replication was asked for but is not possible: REPLICAOF is not available on target/],
    },
  },
  {
    name: 'explicit migrate that is viable: MIGRATE steps, reachability unverified',
    options: { strategy: 'migrate' },
    expect: {
      strategy: 'migrate',
      copyMode: 'dump',
      stepKinds: MIGRATE_STEPS,
      warnings: ['migrate-reachability-unverified'],
      check: (plan) => {
        assert.equal(plan.steps[1]!.params.method, 'migrate');
        assert.equal(plan.steps[1]!.params.copy, true);
        // CONFIG SET works on the source, so changes are recorded and followed from before the first
        // batch: the copy is verified with the backlog empty, and no final pass holds the pause.
        assert.ok(plan.steps[1]!.params.captureChanges);
        assert.equal(plan.steps[3]!.params.requireBacklogEmpty, true);
        assert.equal(plan.steps.filter((s) => s.kind === 'bulk_copy').length, 1);
      },
    },
  },
  {
    name: 'MIGRATE without change capture: the final pass sends every key again',
    source: { missing: { 'CONFIG SET': 'unknown command (renamed or disabled)' } },
    options: { strategy: 'migrate' },
    expect: {
      strategy: 'migrate',
      liveSync: 'none',
      warningText: [/final pass during the write pause copies every key again/],
      check: (plan) => {
        const final = plan.steps.find((s) => s.id === '4-final_copy')!;
        assert.equal(final.params.scope, 'all-keys');
        assert.equal(final.params.replace, true);
        // Verified under the pause, after the final pass: nothing can change the data then.
        assert.deepEqual(
          plan.steps.map((s) => s.kind),
          [
            'preflight',
            'bulk_copy',
            'write_pause',
            'bulk_copy',
            'verify',
            'repoint',
            'resume_writes',
            'post_verify',
          ],
        );
      },
    },
  },
  {
    name: 'source cannot reach target: MIGRATE ruled out',
    source: noPsync({ missing: { DUMP: 'ACL: no permission' } }),
    target: managed,
    options: { sourceCanReachTarget: false },
    expect: {
      strategy: 'dump-restore',
      copyMode: 'by-type',
      ruledOut: { migrate: /the source server cannot reach the target/ },
    },
  },
  {
    name: 'MIGRATE with reachability confirmed: no reachability warning',
    options: { strategy: 'migrate', sourceCanReachTarget: true },
    expect: { strategy: 'migrate', noWarnings: ['migrate-reachability-unverified'] },
  },
  {
    name: 'MIGRATE unavailable on source and RESTORE on target',
    source: { missing: { MIGRATE: 'ACL: no permission' } },
    target: { ...managed, missing: { ...MANAGED_BLOCKS, RESTORE: 'ACL: no permission' } },
    expect: {
      strategy: 'dump-restore',
      copyMode: 'by-type',
      ruledOut: { migrate: /^MIGRATE is not available on source: ACL: no permission$/ },
      check: (plan) => {
        const migrate = plan.assessments.find((a) => a.strategy === 'migrate')!;
        assert.ok(migrate.reasons.some((r) => /^RESTORE is not available on target: ACL/.test(r)));
        assert.match(plan.copyModeReasons.join(), /RESTORE is not available on target/);
      },
    },
  },
  {
    name: '--match rules out replication, with a warning that it otherwise would work',
    options: { match: 'session:*' },
    expect: {
      strategy: 'dump-restore',
      ruledOut: { replication: /cannot honour --match "session:\*"/ },
      warnings: ['subset-rules-out-replication'],
      check: (plan) => assert.equal(stepOf(plan, 'bulk_copy').params.match, 'session:*'),
    },
  },
  {
    name: 'a db subset that leaves out dbs with keys rules out replication',
    source: noPsync({ dbs: { 0: 10, 3: 10 } }),
    options: { dbs: [0] },
    expect: {
      strategy: 'dump-restore',
      ruledOut: { replication: /cannot leave out db 3 \(asked for db 0\)/ },
    },
  },
  {
    name: 'a db list covering every db with keys keeps replication',
    source: { dbs: { 0: 10, 3: 10 } },
    options: { dbs: [3, 0] },
    expect: { strategy: 'replication' },
  },
  {
    name: 'short average TTL against the copy estimate: warned, said to be an average',
    source: noPsync({ dbs: [{ db: 0, keys: 200_000, expires: 5000, avgTtlMs: 2000 }] }),
    target: managed,
    options: { estimatedKeysPerSecond: 20_000 },
    expect: {
      strategy: 'dump-restore',
      warnings: ['short-ttl'],
      warningText: [/db 0: 5,000 keys with a TTL averaging 2 s \(an average.*estimated copy time of 10 s/],
      check: (plan) => assert.equal(plan.estimates.copySeconds, 10),
    },
  },
  {
    name: 'TTLs longer than the copy: no TTL warning',
    source: noPsync({ dbs: [{ db: 0, keys: 200_000, expires: 5000, avgTtlMs: 60_000 }] }),
    target: managed,
    expect: { strategy: 'dump-restore', noWarnings: ['short-ttl'] },
  },
  {
    name: 'short TTLs do not matter to replication (it carries expiry natively)',
    source: { dbs: [{ db: 0, keys: 200_000, expires: 5000, avgTtlMs: 2000 }] },
    expect: { strategy: 'replication', noWarnings: ['short-ttl'] },
  },
  {
    name: 'notifications off and CONFIG blocked on the source: no live sync, pause-then-copy steps',
    source: managed,
    target: managed,
    expect: {
      strategy: 'dump-restore',
      liveSync: 'none',
      warnings: ['live-sync-unavailable'],
      warningText: [/keyspace notifications are off.*CONFIG SET is not available on source.*parameter group/],
      stepKinds: DUMP_RESTORE_PAUSE_FIRST,
      check: (plan) => {
        assert.equal(stepOf(plan, 'bulk_copy').params.captureChanges, null);
        assert.equal(stepOf(plan, 'verify').params.countTolerancePercent, 0);
      },
    },
  },
  {
    name: 'notifications KEA: live sync follows them as they are',
    source: { ...managed, notifyKeyspaceEvents: 'KEA' },
    target: managed,
    expect: {
      strategy: 'dump-restore',
      liveSync: 'notifications',
      stepKinds: DUMP_RESTORE_LIVE,
      noWarnings: ['live-sync-unavailable', 'live-sync-no-streams'],
      check: (plan) => assert.equal(stepOf(plan, 'live_sync').params.notifyKeyspaceEvents, 'KEA'),
    },
  },
  {
    name: 'notifications Kg$lshzxe: enough, but stream changes are not followed',
    source: { ...managed, notifyKeyspaceEvents: 'Kg$lshzxe' },
    target: managed,
    expect: { liveSync: 'notifications', warnings: ['live-sync-no-streams'], stepKinds: DUMP_RESTORE_LIVE },
  },
  {
    name: 'notifications too narrow (Ex) and CONFIG blocked: no live sync, names what is missing',
    source: { ...managed, notifyKeyspaceEvents: 'Ex' },
    target: managed,
    expect: { liveSync: 'none', warningText: [/"Ex", missing g, \$, l, s, h, z, e/] },
  },
  {
    name: 'notifications off but CONFIG SET works on the source: live sync turns them on and back off',
    source: noPsync(),
    target: managed,
    expect: {
      liveSync: 'enable-notifications',
      warnings: ['live-sync-enables-notifications'],
      check: (plan) => {
        const capture = stepOf(plan, 'bulk_copy').params.captureChanges as Record<string, unknown>;
        assert.deepEqual(capture, { notifyKeyspaceEvents: 'KA', setConfig: true, restoreTo: '' });
        assert.equal(stepOf(plan, 'resume_writes').params.restoreNotifyKeyspaceEvents, '');
      },
    },
  },
  {
    name: 'PSUBSCRIBE not permitted: no live sync even with notifications on',
    source: noPsync({ notifyKeyspaceEvents: 'KEA', missing: { PSUBSCRIBE: 'ACL: no permission' } }),
    target: managed,
    expect: { liveSync: 'none', warningText: [/PSUBSCRIBE is not available on source: ACL: no permission/] },
  },
  {
    name: 'CLIENT PAUSE unavailable: warned, the write pause becomes a person stopping the apps',
    source: { missing: { 'CLIENT PAUSE': 'unknown command (renamed or disabled)' } },
    target: managed,
    expect: {
      warnings: ['no-write-pause'],
      check: (plan) => {
        const pause = stepOf(plan, 'write_pause');
        assert.equal(pause.params.method, 'manual');
        assert.match(pause.description, /maintenance mode/);
      },
    },
  },
  {
    name: 'same server on both sides: blocked',
    source: { url: 'redis://shared.example:6379' },
    target: { url: 'redis://shared.example:6379' },
    expect: { strategy: null, blockers: ['same-endpoint'] },
  },
  {
    name: 'same host and port with another db in the URL: still the same server',
    source: { url: 'redis://shared.example:6379/0' },
    target: { url: 'redis://shared.example/1' },
    expect: { strategy: null, blockers: ['same-endpoint'] },
  },
  {
    name: 'target has fewer databases than the highest source db',
    source: { dbs: { 0: 1, 3: 1 } },
    target: { configuredDatabases: 1 },
    expect: {
      strategy: null,
      blockers: ['target-too-few-databases'],
      blockerText: [/db 3 .*only 1 database/],
    },
  },
  {
    name: 'a db that does not exist on the source',
    options: { dbs: [0, 20] },
    expect: {
      blockers: ['db-not-on-source', 'target-too-few-databases'],
      warnings: ['empty-db-selected'],
    },
  },
  {
    name: 'downgrade with module-type keys sampled: no path for them at all',
    source: {
      ...downgrade,
      modules: [{ name: 'ReJSON', version: 20609 }],
      bigKeys: { sampled: 100, keys: [{ db: 0, key: 'doc', type: 'ReJSON-RL', bytes: 2 * MB }] },
    },
    target: { modules: [{ name: 'ReJSON', version: 20609 }] },
    expect: {
      strategy: null,
      candidate: null,
      blockers: ['module-keys-cannot-cross', 'no-viable-strategy'],
      ruledOut: { 'dump-restore': /ReJSON-RL.*cannot be\s+copied type by type/ },
    },
  },
  {
    name: 'downgrade with modules loaded but no module keys seen: by-type goes ahead, warned',
    source: { ...downgrade, modules: [{ name: 'bf', version: 20612 }] },
    target: { modules: [{ name: 'bf', version: 20612 }] },
    expect: {
      strategy: 'dump-restore',
      copyMode: 'by-type',
      warnings: ['source-modules', 'by-type-copy'],
      warningText: [/cannot be copied type by type and will fail/],
    },
  },
  {
    name: 'module keys sampled, module missing on the target: blocked',
    source: {
      modules: [{ name: 'bf', version: 20612 }],
      bigKeys: { sampled: 100, keys: [{ db: 0, key: 'bloom', type: 'MBbloom--', bytes: 20 * MB }] },
    },
    expect: {
      strategy: null,
      blockers: ['module-missing-on-target'],
      ruledOut: { replication: /target lacks module bf/ },
    },
  },
  {
    name: 'module missing on target, no sample: a warning that says to sample',
    source: { modules: [{ name: 'bf', version: 20612 }] },
    target: managed,
    expect: { strategy: 'dump-restore', warningText: [/target lacks bf.*--big-keys/] },
  },
  {
    name: '--by-type: dump-restore by type; MIGRATE and replication ruled out',
    options: { byType: true },
    expect: {
      strategy: 'dump-restore',
      copyMode: 'by-type',
      ruledOut: { migrate: /cannot copy --by-type/, replication: /--by-type/ },
      check: (plan) => assert.deepEqual(plan.copyModeReasons, ['--by-type was asked']),
    },
  },
  {
    name: 'big keys above the threshold and above the target proto-max-bulk-len',
    source: noPsync({
      bigKeys: {
        sampled: 500,
        keys: [
          { db: 0, key: 'huge', type: 'hash', bytes: 100 * MB, elements: 1_000_000 },
          { db: 0, key: 'big', type: 'zset', bytes: 20 * MB },
          { db: 0, key: 'small', type: 'string', bytes: 1 * MB },
        ],
      },
    }),
    target: { ...managed, protoMaxBulkLen: 64 * MB },
    expect: {
      strategy: 'dump-restore',
      warnings: ['big-keys', 'big-keys-over-bulk-limit'],
      warningText: [/1 sampled key exceed.*64\.0 MiB.*"huge"/, /1 sampled key are above 16\.0 MiB.*"big"/],
      ruledOut: { migrate: /cannot split keys.*proto-max-bulk-len of 64\.0 MiB/ },
      check: (plan) => {
        assert.equal(stepOf(plan, 'bulk_copy').params.chunkAboveBytes, 16 * MB);
        // Sampled keys over the threshold: every key is measured before its DUMP.
        assert.equal(stepOf(plan, 'bulk_copy').params.sizeProbe, 'always');
      },
    },
  },
  {
    name: 'big keys not sampled: hint to sample them',
    source: noPsync(),
    target: managed,
    expect: {
      warnings: ['big-keys-not-sampled'],
      check: (plan) => assert.equal(stepOf(plan, 'bulk_copy').params.sizeProbe, 'auto'),
    },
  },
  {
    name: 'function libraries with replication: carried along',
    source: { functionLibraries: 2 },
    target: { functionLibraries: 0 },
    expect: { strategy: 'replication', warningText: [/2 function libraries: replication carries them/] },
  },
  {
    name: 'function libraries with dump-restore: FUNCTION DUMP/RESTORE, policy follows onNonEmptyTarget',
    source: { functionLibraries: 1 },
    target: managed,
    options: { onNonEmptyTarget: 'replace' },
    expect: {
      warningText: [/FUNCTION DUMP\/RESTORE/],
      check: (plan) => assert.equal(stepOf(plan, 'bulk_copy').params.functions, 'REPLACE'),
    },
  },
  {
    name: 'function libraries but FUNCTION RESTORE blocked on the target: not copied, warned',
    source: { functionLibraries: 1 },
    target: { ...managed, missing: { ...MANAGED_BLOCKS, 'FUNCTION RESTORE': 'ACL: no permission' } },
    expect: {
      warnings: ['functions-not-copied'],
      check: (plan) => assert.equal(stepOf(plan, 'bulk_copy').params.functions, null),
    },
  },
  {
    name: 'a target holding only function libraries is not empty: refused, saying what the flags do',
    target: { functionLibraries: 2 },
    expect: {
      strategy: null,
      blockers: ['target-not-empty'],
      blockerText: [
        /holds 2 function libraries: use --replace to overwrite keys and function libraries that exist on both \(the target's other libraries stay\), or --flush-target to .*replace the target's function libraries with the source's/,
      ],
      ruledOut: { replication: /which holds 2 function libraries: only --flush-target/ },
    },
  },
  {
    name: 'target libraries with --replace: same-name ones overwritten, the others stay',
    source: noPsync({ functionLibraries: 1 }),
    target: { ...managed, functionLibraries: 2 },
    options: { onNonEmptyTarget: 'replace' },
    expect: {
      strategy: 'dump-restore',
      warnings: ['target-functions'],
      warningText: [
        /--replace: the target holds 2 function libraries; those named like one of the source's \(1 function library\) are overwritten, the others stay/,
      ],
      check: (plan) => assert.equal(stepOf(plan, 'bulk_copy').params.functions, 'REPLACE'),
    },
  },
  {
    name: 'target libraries with --flush-target and none on the source: the copy deletes them',
    source: noPsync(),
    target: { ...managed, functionLibraries: 3 },
    options: { onNonEmptyTarget: 'flush' },
    expect: {
      strategy: 'dump-restore',
      warnings: ['target-functions'],
      warningText: [
        /--flush-target: the target holds 3 function libraries; they are deleted and the target ends with exactly the source's \(0 function libraries\)/,
      ],
      check: (plan) => assert.equal(stepOf(plan, 'bulk_copy').params.functions, 'FLUSH'),
    },
  },
  {
    name: "target libraries with --flush-target and replication: replaced by the source's",
    target: { functionLibraries: 1 },
    options: { onNonEmptyTarget: 'flush' },
    expect: {
      strategy: 'replication',
      warningText: [/the target holds 1 function library: replication replaces them with the source's/],
    },
  },
  {
    name: 'function libraries and a target without functions (6.2): blocked',
    source: { functionLibraries: 1 },
    target: { server: { version: '6.2.14', rdbVersion: 9 }, functionLibraries: null },
    expect: { strategy: null, blockers: ['functions-unsupported-on-target'] },
  },
  {
    name: 'source is a replica: warned; MIGRATE (a write command) ruled out',
    source: {
      replication: { role: 'replica', masterHost: '10.0.0.5', masterPort: 6379, masterLinkStatus: 'up' },
    },
    expect: {
      strategy: 'replication',
      warnings: ['source-is-replica'],
      warningText: [/replica of 10\.0\.0\.5:6379/],
      ruledOut: { migrate: /read-only replica/ },
    },
  },
  {
    name: 'target is a replica: blocked',
    target: { replication: { role: 'replica', masterHost: '10.0.0.9', masterPort: 6380 } },
    expect: { strategy: null, blockers: ['target-is-replica'], blockerText: [/replica of 10\.0\.0\.9:6380/] },
  },
  {
    name: 'source with an ACL user and password: replication sets masterauth and masteruser',
    source: { url: 'redis://app:***@old.example:6379' },
    expect: {
      strategy: 'replication',
      check: (plan) => {
        const start = stepOf(plan, 'start_replication');
        assert.equal(start.params.setMasterauth, true);
        assert.equal(start.params.masteruser, 'app');
        assert.match(start.description, /masterauth and masteruser/);
      },
    },
  },
  {
    name: 'PSYNC and SYNC not permitted for the source user',
    source: { missing: { PSYNC: 'ACL: no permission', SYNC: 'ACL: no permission' } },
    expect: {
      strategy: 'dump-restore',
      ruledOut: {
        replication: /^PSYNC and SYNC are not available on source: ACL: no permission \(a replica/,
      },
    },
  },
  {
    name: 'PSYNC blocked but SYNC permitted: replication still works',
    source: { missing: { PSYNC: 'ACL: no permission' } },
    expect: { strategy: 'replication' },
  },
  {
    name: 'CONFIG SET blocked on the target: no masterauth/replica-read-only, replication out',
    source: noPsync(),
    target: { missing: { 'CONFIG SET': 'ACL: no permission' } },
    expect: {
      strategy: 'dump-restore',
      ruledOut: { replication: /CONFIG SET is not available on target.*masterauth/ },
    },
  },
  {
    name: 'target cannot reach the source: replication out',
    source: noPsync(),
    options: { targetCanReachSource: false },
    expect: { strategy: 'dump-restore', ruledOut: { replication: /target cannot reach the source/ } },
  },
  {
    name: 'replication with reachability unknown: warned',
    expect: {
      strategy: 'replication',
      warnings: ['replication-reachability-unverified', 'replication-full-sync'],
    },
  },
  {
    name: 'empty source: replication, nothing to copy',
    source: { dbs: {} },
    expect: {
      strategy: 'replication',
      warnings: ['nothing-to-copy'],
      check: (p) => assert.equal(p.estimates.keys, 0),
    },
  },
  {
    name: 'RDB format from the version table on the same build: no doubt, no canary warning',
    source: noPsync(),
    target: { server: { rdbVersionSource: 'version-table' }, missing: MANAGED_BLOCKS },
    expect: { strategy: 'dump-restore', noWarnings: ['dump-compatibility-unconfirmed'] },
  },
  {
    name: 'RDB format from the version table across versions: confirmed with a canary',
    source: noPsync({ server: { version: '7.0.11' } }),
    target: { server: { rdbVersionSource: 'version-table' }, missing: MANAGED_BLOCKS },
    expect: { strategy: 'dump-restore', warnings: ['dump-compatibility-unconfirmed'] },
  },
  {
    name: 'valkey to redis: versions not comparable, RDB format decides',
    source: noPsync({ server: { flavor: 'valkey', version: '8.0.2', rdbVersion: 11 } }),
    target: { server: { version: '7.2.4', rdbVersion: 11 }, missing: MANAGED_BLOCKS },
    expect: {
      strategy: 'dump-restore',
      copyMode: 'dump',
      warnings: ['dump-compatibility-unconfirmed'],
      check: (plan) => assert.equal(stepOf(plan, 'preflight').params.restoreCanary, true),
    },
  },
];

describe('planMigration decision table', () => {
  for (const c of cases) {
    test(c.name, () => {
      const plan = planMigration(source(c.source), target(c.target), options(c.options));
      const e = c.expect;
      if (e.strategy !== undefined) assert.equal(plan.strategy, e.strategy, 'strategy');
      if (e.candidate !== undefined) assert.equal(plan.candidate, e.candidate, 'candidate');
      if (e.copyMode !== undefined) assert.equal(plan.copyMode, e.copyMode, 'copyMode');
      if (e.liveSync !== undefined) assert.equal(plan.liveSync, e.liveSync, 'liveSync');
      assert.deepEqual(
        plan.blockers.map((b) => b.code).sort(),
        [...(e.blockers ?? [])].sort(),
        `blockers: ${JSON.stringify(plan.blockers)}`,
      );
      for (const re of e.blockerText ?? []) {
        assert.ok(
          plan.blockers.some((b) => re.test(b.message)),
          `${re} in ${JSON.stringify(plan.blockers)}`,
        );
      }
      const codes = plan.warnings.map((w) => w.code);
      for (const code of e.warnings ?? []) assert.ok(codes.includes(code), `warning ${code} in ${codes}`);
      for (const code of e.noWarnings ?? [])
        assert.ok(!codes.includes(code), `no warning ${code} in ${codes}`);
      for (const re of e.warningText ?? []) {
        assert.ok(
          plan.warnings.some((w) => re.test(w.message)),
          `${re} in ${JSON.stringify(plan.warnings, null, 1)}`,
        );
      }
      for (const [strategy, re] of Object.entries(e.ruledOut ?? {})) {
        const a = plan.assessments.find((x) => x.strategy === strategy)!;
        assert.equal(a.viable, false, `${strategy} should be ruled out`);
        assert.ok(
          a.reasons.some((r) => re.test(r)),
          `${strategy}: ${re} in ${JSON.stringify(a.reasons)}`,
        );
      }
      for (const strategy of e.viable ?? []) {
        const a = plan.assessments.find((x) => x.strategy === strategy)!;
        assert.equal(a.viable, true, `${strategy} viable: ${a.reasons}`);
        assert.deepEqual(a.reasons, []);
      }
      if (e.stepKinds)
        assert.deepEqual(
          plan.steps.map((s) => s.kind),
          e.stepKinds,
        );
      // Invariants of every plan.
      if (plan.strategy === null) assert.deepEqual(plan.steps, []);
      if (plan.strategy !== null) assert.equal(plan.blockers.length, 0);
      for (const a of plan.assessments) assert.equal(a.viable, a.reasons.length === 0);
      e.check?.(plan);
    });
  }
});
