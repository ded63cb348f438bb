// Test executors: stand-ins for real strategy steps, observable from the outside through a Redis
// (the migration's "target" endpoint), so tests can tell how often and from where each one ran.

import { Redis } from 'ioredis';
import type { Endpoint } from '../../../src/redis/endpoint.js';
import { parseEndpointUrl } from '../../../src/redis/endpoint.js';
import type { Migration } from '../../../src/runbook/model.js';
import {
  ExecutorRegistry,
  type StepContext,
  type StepExecutor,
  type StepOutcome,
} from '../../../src/runbook/step-executor.js';
import { sleep } from '../../../src/util/sleep.js';

const clients = new Map<string, Redis>();

/** One shared client per endpoint URL (the test's "target" server). */
export function targetClient(endpoint: Endpoint): Redis {
  let c = clients.get(endpoint.url);
  if (!c) {
    c = new Redis({ host: endpoint.host, port: endpoint.port, maxRetriesPerRequest: 3 });
    c.on('error', () => {});
    clients.set(endpoint.url, c);
  }
  return c;
}

export function closeTargetClients(): void {
  for (const c of clients.values()) c.disconnect();
  clients.clear();
}

/**
 * Counts from its checkpoint to `params.total`, one tick per item: pushes `<epoch>:<i>` to the
 * list `log:<migration>:<step>` on the target (the "write"), then saves checkpoint {next: i + 1}.
 * A run that resumes from a checkpoint starts past zero; a fenced run stops at its next save.
 */
export const counting: StepExecutor = {
  async run(ctx: StepContext): Promise<StepOutcome> {
    const total = Number(ctx.step.params.total ?? 10);
    const tickMs = Number(ctx.step.params.tickMs ?? 20);
    const redis = targetClient(ctx.endpoints.target);
    const key = `log:${ctx.migration.id}:${ctx.step.id}`;
    const start = (ctx.checkpoint as { next?: number } | undefined)?.next ?? 0;
    await redis.rpush(`starts:${ctx.migration.id}:${ctx.step.id}`, `${ctx.step.epoch}:${start}`);
    for (let i = start; i < total; i++) {
      if (ctx.signal.aborted) throw new Error('stopped');
      await sleep(tickMs, ctx.signal);
      if (ctx.signal.aborted) throw new Error('stopped');
      await redis.rpush(key, `${ctx.step.epoch}:${i}`);
      await ctx.saveCheckpoint({ next: i + 1 });
      ctx.reportProgress({ phase: 'keys', keysDone: i + 1, keysTotal: total, keysPerSecond: 1000 / tickMs });
    }
    return { summary: `counted ${total}`, result: { total, resumedFrom: start } };
  },
  abortState: (ctx) =>
    `counted to ${(ctx.checkpoint as { next?: number } | undefined)?.next ?? 0}; nothing else changed`,
};

/** Records that it ran (`runs:<migration>:<step>` on the target) and succeeds. */
export const instant: StepExecutor = {
  async run(ctx) {
    await targetClient(ctx.endpoints.target).incr(`runs:${ctx.migration.id}:${ctx.step.id}`);
    if (ctx.step.kind === 'verify')
      await ctx.audit('verification', 'identical: 10 keys checked', { keys: 10 });
    return { summary: `${ctx.step.kind} done` };
  },
};

/** Slow on purpose (`params.ms`), counting runs: for "delivered many times runs once". */
export const slowOnce: StepExecutor = {
  async run(ctx) {
    await targetClient(ctx.endpoints.target).incr(`runs:${ctx.migration.id}:${ctx.step.id}`);
    await sleep(Number(ctx.step.params.ms ?? 200), ctx.signal);
    return { summary: 'slow step done' };
  },
};

/** Fails with a connection-refused error `params.failures` times, then succeeds. */
export const flaky: StepExecutor = {
  async run(ctx) {
    const n = await targetClient(ctx.endpoints.target).incr(`tries:${ctx.migration.id}:${ctx.step.id}`);
    if (n <= Number(ctx.step.params.failures ?? 2)) {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    }
    return { summary: `succeeded on try ${n}` };
  },
};

/** An authentication failure: never worth a retry. */
export const badAuth: StepExecutor = {
  async run(ctx) {
    await targetClient(ctx.endpoints.target).incr(`tries:${ctx.migration.id}:${ctx.step.id}`);
    throw new Error('WRONGPASS invalid username-password pair or user is disabled');
  },
};

/** Verification that finds differences: the step fails with the verdict. */
export const differences: StepExecutor = {
  async run() {
    return { summary: 'verification failed: 3 keys differ', verdict: 'failed', result: { missing: 3 } };
  },
};

/** Asks a person to confirm (repoint), then succeeds when run again after the confirmation. */
export const confirmFirst: StepExecutor = {
  async run(ctx) {
    if (!ctx.step.confirmedBy)
      return { summary: 'waiting', awaitConfirmation: 'repoint the apps to the target' };
    return { summary: `confirmed by ${ctx.step.confirmedBy.userId}` };
  },
};

export function testRegistry(overrides: Partial<Record<string, StepExecutor>> = {}): ExecutorRegistry {
  const r = new ExecutorRegistry()
    .register('preflight', instant)
    .register('bulk_copy', counting)
    .register('live_sync', slowOnce)
    .register('verify', instant)
    .register('repoint', confirmFirst)
    .register('promote', instant)
    .register('post_verify', instant)
    .register('write_pause', instant)
    .register('resume_writes', instant)
    .register('drain_check', instant)
    .register('make_writable', instant)
    .register('hook', flaky);
  for (const [kind, ex] of Object.entries(overrides)) if (ex) r.register(kind as never, ex);
  return r;
}

/** Source and target both point at one test server (the executors only write to "target"). */
export function endpointsFrom(targetUrl: string) {
  const target = parseEndpointUrl(targetUrl, 'dst');
  const source = parseEndpointUrl(targetUrl, 'src');
  return (_m: Migration) => ({ source, target });
}
