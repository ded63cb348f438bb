// The Prometheus metrics of one process, through prom-client. Two kinds:
//  - counted here as things happen (steps this process ran, what they copied, Slack API calls):
//    each process counts its own, so sums over instances are totals;
//  - read at scrape time from the control Redis (migrations by state, queue depth, live-sync lag
//    and write pauses of running migrations): every instance reports the same shared state, so
//    take max, not sum, of those over instances.
// The domain only knows its observer interfaces (StepRunObserver, SlackApiObserver).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { StepRunObserver, StepRunReport } from '../runbook/step-observer.js';
import type { SlackApiCall, SlackApiObserver } from '../slack/api-calls.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

export const METRIC_PREFIX = 'migration_buddy_';

/** What a scrape reads from the control Redis (src/ops/control-snapshot.ts builds it). */
export interface ControlSnapshot {
  /** Migrations by state: every active one and the most recent others. */
  migrationsByState: Record<string, number>;
  /** BullMQ job counts: queue -> state -> jobs. */
  queueJobs: Record<string, Record<string, number>>;
  /** Followers of running client-side copies (live sync) with a fresh status. */
  followers: { migrationId: string; lagMs: number; pendingKeys: number; paused: boolean }[];
}

export interface ControlSource {
  snapshot(): Promise<ControlSnapshot>;
}

export class OpsMetrics implements StepRunObserver, SlackApiObserver {
  readonly registry = new Registry();
  private source: ControlSource | undefined;
  private readonly m;

  constructor(private readonly logger?: Logger) {
    const registers = [this.registry];
    const p = METRIC_PREFIX;
    collectDefaultMetrics({ register: this.registry, prefix: p });
    const stepLabels = ['kind', 'strategy', 'outcome'] as const;
    this.m = {
      stepRuns: new Counter({
        name: `${p}step_runs_total`,
        help: 'Runs of migration steps by this process, by step kind, strategy and how the run ended',
        labelNames: stepLabels,
        registers,
      }),
      stepDuration: new Histogram({
        name: `${p}step_duration_seconds`,
        help: 'Time from claiming a step to recording how the run ended',
        labelNames: stepLabels,
        buckets: [0.05, 0.25, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600],
        registers,
      }),
      keysCopied: new Counter({
        name: `${p}keys_copied_total`,
        help: 'Keys copied by the copy steps this process ran (as their results report them)',
        labelNames: ['strategy'],
        registers,
      }),
      bytesCopied: new Counter({
        name: `${p}bytes_copied_total`,
        help: 'Payload bytes copied by the client-side copy steps this process ran',
        labelNames: ['strategy'],
        registers,
      }),
      writePause: new Histogram({
        name: `${p}write_pause_seconds`,
        help: 'Write pauses of dump-restore cutovers, as measured on the source (CLIENT PAUSE to UNPAUSE)',
        buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      }),
      approvalWait: new Histogram({
        name: `${p}approval_wait_seconds`,
        help: 'From an approval request to the approval that opened the step, by step kind',
        labelNames: ['kind'],
        buckets: [5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600],
        registers,
      }),
      slackCalls: new Counter({
        name: `${p}slack_api_calls_total`,
        help: 'Slack Web API calls by method and outcome (ok, error, rate_limited, unreachable)',
        labelNames: ['method', 'outcome'],
        registers,
      }),
      slackErrors: new Counter({
        name: `${p}slack_api_errors_total`,
        help: "Slack Web API calls that failed, by method and Slack's error code",
        labelNames: ['method', 'error'],
        registers,
      }),
      slackRateLimited: new Counter({
        name: `${p}slack_api_rate_limited_total`,
        help: 'Slack Web API calls answered 429 (rate limited), by method',
        labelNames: ['method'],
        registers,
      }),
      controlUp: new Gauge({
        name: `${p}control_redis_up`,
        help: '1 when the last scrape could read the control Redis, else 0',
        registers,
      }),
      migrations: new Gauge({
        name: `${p}migrations`,
        help: 'Migrations by state on the control Redis (every active one and the 200 most recent)',
        labelNames: ['state'],
        registers,
      }),
      queueJobs: new Gauge({
        name: `${p}queue_jobs`,
        help: 'BullMQ jobs by queue and state on the control Redis',
        labelNames: ['queue', 'state'],
        registers,
      }),
      liveSyncLag: new Gauge({
        name: `${p}live_sync_lag_seconds`,
        help: 'Age of the oldest source change not yet applied to the target, per migration in live sync',
        labelNames: ['migration'],
        registers,
      }),
      liveSyncPending: new Gauge({
        name: `${p}live_sync_pending_keys`,
        help: 'Changed keys not yet applied to the target, per migration in live sync',
        labelNames: ['migration'],
        registers,
      }),
      writePaused: new Gauge({
        name: `${p}write_paused`,
        help: 'Whether source writes are paused right now (1) or not (0), per migration in live sync',
        labelNames: ['migration'],
        registers,
      }),
    };
  }

  /** Where scrapes read the shared state from (set once the control Redis is reached). */
  readFrom(source: ControlSource | undefined): void {
    this.source = source;
  }

  stepRun(r: StepRunReport): void {
    const labels = { kind: r.kind, strategy: r.strategy, outcome: r.result.kind };
    this.m.stepRuns.inc(labels);
    this.m.stepDuration.observe(labels, r.durationMs / 1000);
    if (r.approvalWaitMs !== undefined)
      this.m.approvalWait.observe({ kind: r.kind }, r.approvalWaitMs / 1000);
    if (r.result.kind !== 'succeeded' || !r.data) return;
    const keys = numberField(r.data, 'keysCopied');
    if (keys > 0) this.m.keysCopied.inc({ strategy: r.strategy }, keys);
    const bytes = numberField(r.data, 'bytesCopied');
    if (bytes > 0) this.m.bytesCopied.inc({ strategy: r.strategy }, bytes);
    if (r.kind === 'resume_writes' && typeof r.data.pausedMs === 'number') {
      this.m.writePause.observe(r.data.pausedMs / 1000);
    }
  }

  apiCall(call: SlackApiCall): void {
    this.m.slackCalls.inc({ method: call.method, outcome: call.outcome });
    if (call.outcome === 'rate_limited') this.m.slackRateLimited.inc({ method: call.method });
    else if (call.outcome !== 'ok')
      this.m.slackErrors.inc({ method: call.method, error: call.error ?? call.outcome });
  }

  /** The exposition text; the shared state is read first (a control Redis that fails sets control_redis_up 0). */
  async render(): Promise<{ contentType: string; body: string }> {
    await this.refresh();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private async refresh(): Promise<void> {
    const { m } = this;
    for (const g of [m.migrations, m.queueJobs, m.liveSyncLag, m.liveSyncPending, m.writePaused]) g.reset();
    if (!this.source) {
      m.controlUp.set(0);
      return;
    }
    try {
      const snap = await this.source.snapshot();
      m.controlUp.set(1);
      for (const [state, n] of Object.entries(snap.migrationsByState)) m.migrations.set({ state }, n);
      for (const [queue, counts] of Object.entries(snap.queueJobs)) {
        for (const [state, n] of Object.entries(counts)) m.queueJobs.set({ queue, state }, n);
      }
      for (const f of snap.followers) {
        const migration = f.migrationId;
        m.liveSyncLag.set({ migration }, f.lagMs / 1000);
        m.liveSyncPending.set({ migration }, f.pendingKeys);
        m.writePaused.set({ migration }, f.paused ? 1 : 0);
      }
    } catch (err) {
      m.controlUp.set(0);
      this.logger?.warn({ err: errorMessage(err) }, 'metrics: could not read the control Redis');
    }
  }
}

function numberField(data: Record<string, unknown>, name: string): number {
  const v = data[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
