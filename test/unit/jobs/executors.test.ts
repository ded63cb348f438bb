import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';
import type { VerifyReport } from '../../../src/engine/verify/index.js';
import { controlEndpoint } from '../../../src/jobs/connection.js';
import { buildExecutorRegistry, configEndpointResolver } from '../../../src/jobs/executors.js';
import { approvalSettingsFromConfig } from '../../../src/runbook/settings.js';
import { copyOptionsFromParams } from '../../../src/strategies/dump-restore/index.js';
import { changedSteps } from '../../../src/strategies/shared/preflight.js';
import { judge, verifyOptionsFromParams } from '../../../src/strategies/shared/verify.js';
import { memoryMigration, plannedStep, testPlan } from '../runbook/fixtures.js';

const CONFIG = `
endpoints:
  old:
    url: redis://:old-secret@10.0.0.1:6379
  new:
    url: redis://10.0.0.2:6379/2
control:
  url: redis://:ctl-secret@10.0.0.9:6379
approvers:
  users: [U0APPROVER]
  groups: [S0DBA]
approvals:
  expiresAfter: 15m
  quorum:
    promote: 2
`;

describe('process wiring', () => {
  it("resolves a migration's endpoints by name from the config, or leaves it to another worker", () => {
    const config = parseConfig(CONFIG, 'test.yml', {});
    const resolve = configEndpointResolver(config);
    const ok = resolve(memoryMigration({ source: 'old', target: 'new' }));
    assert.equal(ok?.source.host, '10.0.0.1');
    assert.equal(ok?.target.db, 2);
    assert.equal(resolve(memoryMigration({ source: 'old', target: 'elsewhere' })), undefined);
  });

  it('finds the control Redis in the config first, then in CONTROL_REDIS_URL, and says when neither', () => {
    const config = parseConfig(CONFIG, 'test.yml', {});
    assert.equal(controlEndpoint(config, {}).host, '10.0.0.9');
    assert.equal(controlEndpoint(undefined, { CONTROL_REDIS_URL: 'redis://127.0.0.1:7000' }).port, 7000);
    assert.throws(
      () => controlEndpoint(undefined, {}),
      /set control\.url in the config file or the CONTROL_REDIS_URL/,
    );
    assert.throws(() => controlEndpoint(undefined, { CONTROL_REDIS_URL: 'http://x' }), /control Redis URL/);
  });

  it('reads approval settings from the config, with a one hour default expiry', () => {
    const config = parseConfig(CONFIG, 'test.yml', {});
    assert.deepEqual(approvalSettingsFromConfig(config), {
      approvers: { users: ['U0APPROVER'], groups: ['S0DBA'] },
      expiresAfterMs: 900_000,
      quorum: { promote: 2 },
    });
    assert.equal(approvalSettingsFromConfig(undefined).expiresAfterMs, 3_600_000);
  });

  it('registers the executors this build has', () => {
    const kinds = buildExecutorRegistry().kinds();
    for (const k of ['preflight', 'bulk_copy', 'repoint'] as const) assert.ok(kinds.includes(k), k);
  });
});

describe('dump-restore executors (pure parts)', () => {
  it('copy options come from the approved step parameters', () => {
    assert.deepEqual(
      copyOptionsFromParams({
        dbs: [0, 3],
        match: 'user:*',
        copyMode: 'by-type',
        onNonEmptyTarget: 'replace',
        chunkAboveBytes: 1024,
        functions: null,
        sizeProbe: 'always',
      }),
      {
        dbs: [0, 3],
        match: 'user:*',
        mode: 'by-type',
        onNonEmptyTarget: 'replace',
        bigKeyThresholdBytes: 1024,
        copyFunctions: false,
        sizeProbe: 'always',
      },
    );
    assert.deepEqual(
      copyOptionsFromParams({ dbs: 'all', match: null, copyMode: 'dump', sizeProbe: 'auto' }),
      {
        dbs: 'all',
        mode: 'auto',
        onNonEmptyTarget: 'refuse',
      },
    );
  });

  it('preflight names the later steps whose parameters would change', () => {
    const approved = testPlan();
    const same = testPlan();
    assert.deepEqual(changedSteps(approved, same), []);
    const moved = testPlan([
      plannedStep(1, 'preflight', false, { expectTargetKeys: 5 }),
      plannedStep(2, 'bulk_copy', true, { dbs: [0, 1], batch: 100 }),
      plannedStep(3, 'verify', false),
    ]);
    assert.deepEqual(changedSteps(approved, moved), ['bulk_copy step', 'promote step']);
  });
});

describe('verify executor (pure parts)', () => {
  const report = (over: Partial<VerifyReport> = {}): VerifyReport => ({
    identical: true,
    keysChecked: 100,
    dbs: [{ db: 0, sourceKeys: 1000, targetKeys: 995, sourceExpires: 10, targetExpires: 10 }],
    differences: {
      missing: { count: 0, samples: [] },
      extra: { count: 0, samples: [] },
      type: { count: 0, samples: [] },
      value: { count: 0, samples: [] },
      ttl: { count: 0, samples: [] },
      persistence: { count: 0, samples: [] },
    },
    comparedBy: 'dump',
    sampled: true,
    durationMs: 5,
    keysPerSecond: 20_000,
    comparisons: { byPayload: 100, byType: 0 },
    rdbVersions: { source: 10, target: 10 },
    recheck: { rounds: 0, candidates: 0, cleared: 0, unconfirmed: 0 },
    differentKeys: 0,
    ...over,
  });

  it('passes key counts within the planned tolerance and fails beyond it', () => {
    assert.equal(judge(report(), 1).verdict, 'ok');
    const strict = judge(report(), 0);
    assert.equal(strict.verdict, 'failed');
    assert.match(strict.summary, /count differs \(db 0: 990 keys on the source, 985 on the target\)/);
  });

  it('fails on any difference class and shows an example', () => {
    const r = report({ identical: false });
    r.differences.value = { count: 2, samples: [{ db: 0, key: 'user:1', detail: 'values differ' }] };
    const out = judge(r, 1);
    assert.equal(out.verdict, 'failed');
    assert.equal(
      out.summary,
      'verification failed: 2 value; 100 keys checked (sampled); e.g. db 0 key user:1: values differ',
    );
  });

  it('takes its options from the step parameters', () => {
    assert.deepEqual(
      verifyOptionsFromParams({
        dbs: [0],
        match: null,
        compare: 'counts-and-sample',
        sampleSize: 1000,
        ttlToleranceMs: 100,
      }),
      { dbs: [0], sample: 1000, ttlToleranceMs: 100 },
    );
  });
});
