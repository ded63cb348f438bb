// OpsMetrics turns observer reports into Prometheus samples; a failing control Redis read is
// control_redis_up 0, never a failed scrape.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OpsMetrics } from '../../../src/ops/metrics.js';

function value(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  assert.ok(found, `no ${line} in:\n${text}`);
  return Number(found.split(' ').at(-1));
}

test('steps, copies, pauses, approvals and Slack calls are counted from the observers', async () => {
  const m = new OpsMetrics();
  const base = { migrationId: 'm1', stepId: 's', strategy: 'dump-restore', durationMs: 1500 };
  m.stepRun({
    ...base,
    kind: 'bulk_copy',
    result: { kind: 'succeeded', summary: '' },
    data: { keysCopied: 120, bytesCopied: 4096 },
    approvalWaitMs: 30_000,
  });
  m.stepRun({
    ...base,
    kind: 'resume_writes',
    result: { kind: 'succeeded', summary: '' },
    data: { pausedMs: 42 },
  });
  // A failed run counts as a run, not as keys copied.
  m.stepRun({
    ...base,
    kind: 'bulk_copy',
    result: { kind: 'failed', error: 'x' },
    data: { keysCopied: 999 },
  });
  m.apiCall({ method: 'chat.update', outcome: 'rate_limited' });
  m.apiCall({ method: 'chat.postMessage', outcome: 'error', error: 'channel_not_found' });
  m.apiCall({ method: 'chat.postMessage', outcome: 'ok' });
  const { body } = await m.render();
  const p = 'migration_buddy_';
  assert.equal(
    value(body, `${p}step_runs_total{kind="bulk_copy",strategy="dump-restore",outcome="succeeded"}`),
    1,
  );
  assert.equal(
    value(body, `${p}step_runs_total{kind="bulk_copy",strategy="dump-restore",outcome="failed"}`),
    1,
  );
  assert.equal(value(body, `${p}keys_copied_total{strategy="dump-restore"}`), 120);
  assert.equal(value(body, `${p}bytes_copied_total{strategy="dump-restore"}`), 4096);
  assert.equal(value(body, `${p}write_pause_seconds_sum`), 0.042);
  assert.equal(value(body, `${p}approval_wait_seconds_sum{kind="bulk_copy"}`), 30);
  assert.equal(value(body, `${p}slack_api_rate_limited_total{method="chat.update"}`), 1);
  assert.equal(
    value(body, `${p}slack_api_errors_total{method="chat.postMessage",error="channel_not_found"}`),
    1,
  );
  assert.equal(value(body, `${p}slack_api_calls_total{method="chat.postMessage",outcome="ok"}`), 1);
  assert.equal(value(body, `${p}control_redis_up`), 0);
});

test('a control Redis that cannot be read is control_redis_up 0; the scrape still answers', async () => {
  const m = new OpsMetrics();
  m.readFrom({
    snapshot: async () => {
      throw new Error('connection refused');
    },
  });
  assert.equal(value((await m.render()).body, 'migration_buddy_control_redis_up'), 0);
  m.readFrom({
    snapshot: async () => ({
      migrationsByState: { running: 2 },
      queueJobs: { 'mb-steps': { waiting: 3 } },
      followers: [{ migrationId: 'm9', lagMs: 250, pendingKeys: 7, paused: true }],
    }),
  });
  const { body } = await m.render();
  assert.equal(value(body, 'migration_buddy_control_redis_up'), 1);
  assert.equal(value(body, 'migration_buddy_migrations{state="running"}'), 2);
  assert.equal(value(body, 'migration_buddy_queue_jobs{queue="mb-steps",state="waiting"}'), 3);
  assert.equal(value(body, 'migration_buddy_live_sync_lag_seconds{migration="m9"}'), 0.25);
  assert.equal(value(body, 'migration_buddy_write_paused{migration="m9"}'), 1);
});
