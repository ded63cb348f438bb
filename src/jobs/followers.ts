// Follower jobs: one long-running BullMQ job per run of a migration's follower (the live phase:
// live sync and the write pause; src/strategies/live-phase). It is working the whole time,
// so holding a job is fine; BullMQ's stall recovery restarts it on another worker when its process
// dies, and the follower claims the run again from the control Redis (fenced by an epoch).
import { DelayedError, type Job, Queue, UnrecoverableError } from 'bullmq';
import type { Endpoint } from '../redis/endpoint.js';
import type { Migration } from '../runbook/model.js';
import type { MigrationService } from '../runbook/service.js';
import {
  Follower,
  type FollowerLauncher,
  type FollowerOptions,
  type FollowerRef,
  type FollowerStore,
  type LivePhaseTiming,
} from '../strategies/live-phase/index.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { bullConnection } from './connection.js';
import { followerJobId } from './job-ids.js';
import { bullPrefix } from './queue.js';

export const FOLLOWERS_QUEUE = 'mb-followers';

const ALIVE_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/** Starts follower runs as jobs with deterministic ids (launching a run twice adds one job). */
export class FollowerQueue implements FollowerLauncher {
  readonly queue: Queue<FollowerRef>;

  constructor(endpoint: Endpoint, prefix = 'mb') {
    this.queue = new Queue<FollowerRef>(FOLLOWERS_QUEUE, {
      connection: bullConnection(endpoint, 'followers'),
      prefix: bullPrefix(prefix),
    });
    this.queue.on('error', () => {});
  }

  async launch(ref: FollowerRef): Promise<void> {
    await this.queue.add(
      'follower',
      { migrationId: ref.migrationId, run: ref.run },
      {
        jobId: followerJobId(ref),
        // Retries are the follower's own business (a new run); BullMQ restarts it only after a stall.
        attempts: 1,
        removeOnComplete: { age: 7 * 86_400, count: 10_000 },
        removeOnFail: { age: 30 * 86_400 },
      },
    );
  }

  async alive(ref: FollowerRef): Promise<boolean> {
    return ALIVE_STATES.has(await this.queue.getJobState(followerJobId(ref)));
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

export interface FollowerPoolOptions {
  service: MigrationService;
  store: FollowerStore;
  resolveEndpoints(migration: Migration): { source: Endpoint; target: Endpoint } | undefined;
  workerId: string;
  leaseMs: number;
  timing: LivePhaseTiming;
  logger: Logger;
  onControlLost?: FollowerOptions['onControlLost'];
}

/** The followers running in this process, and the BullMQ processor that runs them. */
export class FollowerPool {
  private readonly running = new Set<Follower>();
  private closing = false;

  constructor(private readonly options: FollowerPoolOptions) {}

  get activeCount(): number {
    return this.running.size;
  }

  /** Every follower here looks at its goal and migration now (e.g. the control Redis restarted). */
  wakeAll(): void {
    for (const f of this.running) f.wake();
  }

  /** A command for this migration's follower arrived (pub/sub nudge). */
  wake(migrationId: string): void {
    for (const f of this.running) if (f.migrationId === migrationId) f.wake();
  }

  /** The migration was aborted: its follower lifts the pause now. */
  abortLocal(migrationId: string): number {
    let n = 0;
    for (const f of this.running) {
      if (f.migrationId === migrationId) {
        f.abortNow();
        n++;
      }
    }
    return n;
  }

  /**
   * The migration is gone from the control Redis (read so by the caller): its follower here puts
   * the source back now, whatever its own reads of the control Redis say meanwhile.
   */
  migrationLost(migrationId: string): void {
    for (const f of this.running) if (f.migrationId === migrationId) f.migrationLost();
  }

  /** Every follower here lets go (keeping the pause); other workers take their runs over. */
  shutdown(): void {
    this.closing = true;
    for (const f of this.running) f.release();
  }

  // Three parameters: BullMQ only passes the cancellation signal to processors that declare it.
  readonly process = async (job: Job<FollowerRef>, token: string | undefined, signal?: AbortSignal) => {
    const later = async (ms: number): Promise<never> => {
      await job.moveToDelayed(Date.now() + ms, token);
      throw new DelayedError();
    };
    if (this.closing) return later(0);
    const { service, logger } = this.options;
    const ref = job.data;
    const migration = await service.get(ref.migrationId);
    if (!migration) return { kind: 'stale' };
    let endpoints: { source: Endpoint; target: Endpoint } | undefined;
    try {
      endpoints = this.options.resolveEndpoints(migration);
    } catch (err) {
      throw new UnrecoverableError(errorMessage(err));
    }
    // A `migrate` trial's private workers and a shared fleet may share a control Redis.
    if (!endpoints) return later(2000);
    const follower = new Follower({
      ref,
      channel: this.options.store,
      readMigration: () => service.get(ref.migrationId),
      endpoints,
      workerId: this.options.workerId,
      leaseMs: this.options.leaseMs,
      timing: this.options.timing,
      logger,
      ...(this.options.onControlLost ? { onControlLost: this.options.onControlLost } : {}),
    });
    this.running.add(follower);
    const onCancel = () => follower.release();
    signal?.addEventListener('abort', onCancel, { once: true });
    if (this.closing) follower.release();
    let outcome: Awaited<ReturnType<Follower['run']>>;
    try {
      outcome = await follower.run();
    } finally {
      signal?.removeEventListener('abort', onCancel);
      this.running.delete(follower);
    }
    switch (outcome.kind) {
      case 'released':
        return later(0);
      case 'busy':
        return later(outcome.retryInMs + 250);
      case 'failed':
        throw new UnrecoverableError(outcome.error);
      case 'stopped':
        return {
          kind: 'stopped',
          state: outcome.status.state,
          because: outcome.status.stoppedBecause ?? null,
        };
      default:
        return { kind: outcome.kind };
    }
  };
}
