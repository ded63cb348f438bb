// Wiring of the control plane: store, queue, service, and (optionally) workers that run steps,
// expire approvals and repair lost enqueues. The CLI and the Slack app both start from here.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Endpoint } from '../redis/endpoint.js';
import type { ApprovalSettings } from '../runbook/approval-policy.js';
import { SYSTEM_ACTOR } from '../runbook/events.js';
import type { Migration, StepRef } from '../runbook/model.js';
import { type ApproverDirectory, MigrationService } from '../runbook/service.js';
import type { ExecutorRegistry } from '../runbook/step-executor.js';
import type { StepRunObserver } from '../runbook/step-observer.js';
import { StepRunner } from '../runbook/step-runner.js';
import { MigrationStore } from '../runbook/store.js';
import { AppWriteRecord, type AppWrites, AppWriteWatches } from '../strategies/app-writes/index.js';
import {
  type ControlLost,
  cleanupLivePhase,
  FollowerStore,
  type LivePhase,
  type LivePhaseTiming,
  resolveLivePhaseTiming,
} from '../strategies/live-phase/index.js';
import { cleanupAfterAbort } from '../strategies/replication/index.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { sleep } from '../util/sleep.js';
import { bullConnection, connectControl, watchControlRestarts } from './connection.js';
import { FOLLOWERS_QUEUE, FollowerPool, FollowerQueue } from './followers.js';
import { stepJobId } from './job-ids.js';
import { createStepProcessor } from './processor.js';
import { bullPrefix, MAINTENANCE_QUEUE, STEPS_QUEUE, StepQueue } from './queue.js';
import { SHARDS_QUEUE, ShardQueue } from './shard-queue.js';
import { ShardStore } from './shard-store.js';
import { ShardPool } from './shard-worker.js';
import { type JobTiming, resolveTiming } from './timing.js';

export interface RuntimeOptions {
  control: Endpoint;
  logger: Logger;
  /** Key prefix on the control Redis (default `mb`). */
  prefix?: string;
  settings?: Partial<ApprovalSettings>;
  directory?: ApproverDirectory;
  timing?: Partial<JobTiming>;
  /** Timings of the live phase (follower status, waits, drain bound). */
  livePhase?: Partial<LivePhaseTiming>;
  now?: () => number;
}

export interface Runtime {
  control: Endpoint;
  redis: Redis;
  store: MigrationStore;
  queue: StepQueue;
  service: MigrationService;
  timing: JobTiming;
  /** Followers (live sync and write pause) of client-side copies: their queue and records. */
  followers: FollowerQueue;
  livePhase: LivePhase;
  /** Keys written on targets after their repoint (recorded by this process's watches). */
  appWrites: AppWrites;
  /** The shard jobs of a cluster's bulk copy and verify (a flow under the step). */
  shardFlow: ShardQueue;
  /** Each shard job's checkpoint and result. */
  shards: ShardStore;
  logger: Logger;
  prefix: string;
  close(): Promise<void>;
}

export async function openRuntime(options: RuntimeOptions): Promise<Runtime> {
  const prefix = options.prefix ?? 'mb';
  const timing = resolveTiming(options.timing);
  const redis = await connectControl(options.control);
  redis.on('error', () => {});
  const store = new MigrationStore(redis, { prefix });
  const queue = new StepQueue(options.control, timing, prefix);
  const service = new MigrationService({
    store,
    scheduler: queue,
    logger: options.logger,
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.directory ? { directory: options.directory } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const followers = new FollowerQueue(options.control, prefix);
  const shardFlow = new ShardQueue(options.control, timing, prefix);
  const livePhase: LivePhase = {
    store: new FollowerStore(store, options.now),
    launcher: followers,
    timing: resolveLivePhaseTiming(options.livePhase),
  };
  const appWriteRecord = new AppWriteRecord(store, options.now);
  const appWrites: AppWrites = {
    record: appWriteRecord,
    watches: new AppWriteWatches(
      appWriteRecord,
      `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`,
    ),
  };
  return {
    control: options.control,
    redis,
    store,
    queue,
    service,
    timing,
    followers,
    livePhase,
    appWrites,
    shardFlow,
    shards: new ShardStore(redis, prefix),
    logger: options.logger,
    prefix,
    async close() {
      await appWrites.watches.closeAll().catch(() => undefined);
      await Promise.all([queue.close(), followers.close(), shardFlow.close()]);
      redis.disconnect();
    },
  };
}

export interface WorkerOptions {
  /** This process's executors: buildExecutorRegistry(config, rt) gives them rt's live phase and app-write record. */
  registry: ExecutorRegistry;
  /** Undefined: this process does not know the migration's endpoints; another worker takes it. */
  resolveEndpoints(migration: Migration): { source: Endpoint; target: Endpoint } | undefined;
  /** Step jobs run at once in this process (default 2). */
  concurrency?: number;
  /**
   * Shard jobs (one source shard of a cluster's bulk copy or verify) run at once here (default
   * 2): any number of workers share a cluster's shards.
   */
  shardConcurrency?: number;
  /** Followers (long-running, one per migration in its live phase) run at once here (default 8). */
  followerConcurrency?: number;
  workerId?: string;
  /** Also run the sweeper (approval expiry, repairs). Default true. */
  sweeper?: boolean;
  /**
   * A follower found its migration gone from the control Redis and put the source back. The audit
   * stream is gone with it: this is the way to tell people (the Slack thread, a terminal). Logged
   * as an error either way.
   */
  onControlLost?: (lost: ControlLost) => void;
  /** Told how each step run here ended (the ops listener's metrics). */
  observer?: StepRunObserver;
}

export interface WorkerPool {
  workerId: string;
  runner: StepRunner;
  worker: Worker<StepRef>;
  shardPool: ShardPool;
  shardWorker: Worker;
  followers: FollowerPool;
  followerWorker: Worker;
  /**
   * Graceful stop: take no new jobs, tell running steps to checkpoint and let go (their jobs go
   * back to the queue for another worker), wait at most `timeoutMs`, then drop what is left to
   * stall recovery.
   */
  close(timeoutMs?: number): Promise<{ clean: boolean }>;
}

export async function startWorkers(rt: Runtime, options: WorkerOptions): Promise<WorkerPool> {
  const { timing, logger } = rt;
  const workerId = options.workerId ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
  const log = logger.child({ worker: workerId });
  const runner = new StepRunner({
    service: rt.service,
    registry: options.registry,
    resolveEndpoints: options.resolveEndpoints,
    workerId,
    leaseMs: timing.lockDurationMs,
    progressIntervalMs: timing.progressIntervalMs,
    logger: log,
    ...(options.observer ? { observer: options.observer } : {}),
  });
  const common = {
    prefix: bullPrefix(rt.prefix),
    lockDuration: timing.lockDurationMs,
    stalledInterval: timing.stalledIntervalMs,
    maxStalledCount: timing.maxStalledCount,
    drainDelay: 1,
    name: workerId,
  };
  const worker = new Worker<StepRef>(STEPS_QUEUE, createStepProcessor(runner), {
    ...common,
    connection: bullConnection(rt.control, 'worker'),
    concurrency: options.concurrency ?? 2,
  });
  worker.on('error', (err) => log.warn({ err: errorMessage(err) }, 'step worker error'));
  worker.on('stalled', (jobId) => log.warn({ jobId }, 'a step job stalled; it will be resumed'));

  // Shard jobs: a cluster's bulk copy and verify, one job per source shard, shared by every worker.
  const shardPool = new ShardPool({
    store: rt.store,
    shards: rt.shards,
    resolveEndpoints: options.resolveEndpoints,
    workerId,
    checkMs: Math.max(100, Math.floor(timing.lockDurationMs / 3)),
    progressIntervalMs: timing.progressIntervalMs,
    logger: log,
  });
  const shardWorker = new Worker(SHARDS_QUEUE, shardPool.process, {
    ...common,
    connection: bullConnection(rt.control, 'shard-worker'),
    concurrency: options.shardConcurrency ?? 2,
  });
  shardWorker.on('error', (err) => log.warn({ err: errorMessage(err) }, 'shard worker error'));
  shardWorker.on('stalled', (jobId) => log.warn({ jobId }, 'a shard job stalled; another worker resumes it'));

  // Followers: the live phase of client-side copies, beside the steps in every worker process.
  const followers = new FollowerPool({
    service: rt.service,
    store: rt.livePhase.store,
    resolveEndpoints: options.resolveEndpoints,
    workerId,
    leaseMs: timing.followerLockDurationMs,
    timing: rt.livePhase.timing,
    logger: log,
    ...(options.onControlLost ? { onControlLost: options.onControlLost } : {}),
  });
  const followerWorker = new Worker(FOLLOWERS_QUEUE, followers.process, {
    ...common,
    lockDuration: timing.followerLockDurationMs,
    stalledInterval: timing.followerStalledIntervalMs,
    connection: bullConnection(rt.control, 'follower-worker'),
    concurrency: options.followerConcurrency ?? 8,
  });
  followerWorker.on('error', (err) => log.warn({ err: errorMessage(err) }, 'follower worker error'));
  followerWorker.on('stalled', (jobId) => log.warn({ jobId }, 'a follower stalled; it will be taken over'));
  const nudges = await rt.livePhase.store.subscribe((migrationId) => followers.wake(migrationId));
  // A restarted control Redis may have come back empty: followers look for their migration now
  // rather than at their next poll.
  const unwatch = await watchControlRestarts(rt.redis, (before, after) => {
    log.warn({ before, after }, 'the control Redis restarted (new run_id); checking running migrations');
    followers.wakeAll();
  });

  // Abort: the pub/sub message stops local runs at once (the heartbeat's flag poll is the backstop).
  const abortSub = rt.redis.duplicate();
  abortSub.on('error', () => {});
  abortSub.on('message', (_channel: string, message: string) => {
    try {
      const { migrationId } = JSON.parse(message) as { migrationId: string };
      const n =
        runner.abortLocal(migrationId) +
        followers.abortLocal(migrationId) +
        shardPool.abortLocal(migrationId);
      if (n > 0) log.info({ migrationId, runs: n }, 'abort: stopping running steps and followers');
      // An abort between steps has no running step to clean up after it: one process does.
      else void cleanupIdleAbort(rt, migrationId, options.resolveEndpoints, log);
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'bad abort message');
    }
  });
  await abortSub.subscribe(rt.store.abortChannel);

  let sweeper: Worker | undefined;
  let maintenance: Queue | undefined;
  if (options.sweeper !== false) {
    maintenance = new Queue(MAINTENANCE_QUEUE, {
      connection: bullConnection(rt.control, 'maintenance'),
      prefix: bullPrefix(rt.prefix),
    });
    maintenance.on('error', () => {});
    await maintenance.upsertJobScheduler(
      'mb-sweep',
      { every: timing.sweepIntervalMs },
      { name: 'sweep', opts: { removeOnComplete: true, removeOnFail: 100 } },
    );
    sweeper = new Worker(
      MAINTENANCE_QUEUE,
      async () => {
        const expired = await rt.service.expireDue();
        const queued = await rt.service.repair();
        return { expired, queued };
      },
      { ...common, connection: bullConnection(rt.control, 'sweeper'), concurrency: 1 },
    );
    sweeper.on('error', (err) => log.warn({ err: errorMessage(err) }, 'sweeper error'));
  }
  await Promise.all([worker.waitUntilReady(), followerWorker.waitUntilReady(), shardWorker.waitUntilReady()]);

  let closing: Promise<{ clean: boolean }> | undefined;
  const close = (timeoutMs = timing.shutdownTimeoutMs) => {
    closing ??= (async () => {
      // Stop fetching first, then ask running steps to checkpoint and let go, and followers to hand
      // over (the write pause stays on; the follower that takes over renews it).
      const closed = Promise.all([
        worker.close(),
        shardWorker.close(),
        followerWorker.close(),
        sweeper?.close(),
      ]);
      runner.shutdown();
      shardPool.shutdown();
      followers.shutdown();
      let timer: NodeJS.Timeout | undefined;
      const clean = await Promise.race([
        closed.then(() => true),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (!clean) {
        log.warn({ timeoutMs }, 'steps did not stop in time; leaving them to stall recovery');
        await Promise.race([
          Promise.all([worker.close(true), shardWorker.close(true), followerWorker.close(true)]),
          sleep(1000),
        ]);
      }
      abortSub.disconnect();
      nudges.close();
      unwatch();
      await maintenance?.close();
      return { clean };
    })();
    return closing;
  };
  return { workerId, runner, worker, shardPool, shardWorker, followers, followerWorker, close };
}

/** For status displays and tests: the step job of a run, if BullMQ still has it. */
export function stepJobState(rt: Runtime, ref: StepRef): Promise<string> {
  return rt.queue.queue.getJobState(stepJobId(ref));
}

/**
 * After an abort that found no step running here, undo what a strategy left half-done between
 * steps: a target still replicating from the source, or a source a dead follower left paused or
 * with notify-keyspace-events changed. One process wins the claim, so several workers and serve
 * replicas do it once; the cleanup itself is idempotent.
 */
async function cleanupIdleAbort(
  rt: Runtime,
  migrationId: string,
  resolveEndpoints: WorkerOptions['resolveEndpoints'],
  log: Logger,
): Promise<void> {
  try {
    const migration = await rt.store.get(migrationId, { checkpoints: true });
    if (!migration) return;
    if (migration.steps.some((s) => s.status === 'running')) return; // that step cleans up itself
    const endpoints = resolveEndpoints(migration);
    if (!endpoints) return; // another process knows these endpoints
    const claimed = await rt.redis.set(
      `${rt.prefix}:mig:${migrationId}:abort-cleanup`,
      '1',
      'EX',
      86_400,
      'NX',
    );
    if (claimed !== 'OK') return;
    const outcome =
      migration.plan.strategy === 'replication'
        ? await cleanupAfterAbort(migration, { target: endpoints.target })
        : await cleanupLivePhase(rt.livePhase, migration, endpoints.source);
    if (outcome === undefined) return;
    await rt.store.append(migrationId, [
      {
        migrationId,
        type: 'note',
        at: new Date().toISOString(),
        actor: SYSTEM_ACTOR,
        message: `after the abort: ${outcome}`,
      },
    ]);
  } catch (err) {
    log.warn({ migrationId, err: errorMessage(err) }, 'cleanup after abort failed');
  }
}
