import type { Command } from 'commander';
import { parseDuration } from '../../config/schema.js';
import { controlEndpoint } from '../../jobs/connection.js';
import { buildExecutorRegistry, configEndpointResolver } from '../../jobs/executors.js';
import { openRuntime, type Runtime, startWorkers } from '../../jobs/runtime.js';
import { shardConcurrency } from '../../jobs/shard-concurrency.js';
import type { JobTiming } from '../../jobs/timing.js';
import { describeEndpoint } from '../../redis/endpoint.js';
import { approvalSettingsFromConfig } from '../../runbook/settings.js';
import { ExitCode, UserError } from '../../util/errors.js';
import { createLogger, type Logger } from '../../util/logger.js';
import { action, addGlobalOptions, type CliContext } from '../context.js';
import { addOpsOption, type OpsCliOptions, readOpsSettings, startOpsListener } from '../ops-option.js';

interface WorkerCliOptions extends OpsCliOptions {
  concurrency: string;
  shardConcurrency?: string;
  shutdownTimeout: string;
  lockDuration?: string;
  stalledInterval?: string;
}

/** "30s", "2m" or plain milliseconds, for option values. */
export function durationOption(text: string, name: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  try {
    return parseDuration(text);
  } catch {
    throw new UserError(`${name} must be a duration like 500ms, 30s or 2m`);
  }
}

export function cliLogger(): Logger {
  return createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
}

/** The control Redis runtime for a command, from the config (`control.url`) or CONTROL_REDIS_URL. */
export async function openCliRuntime(ctx: CliContext, timing: Partial<JobTiming> = {}): Promise<Runtime> {
  return openRuntime({
    control: controlEndpoint(ctx.config),
    logger: cliLogger(),
    settings: approvalSettingsFromConfig(ctx.config),
    timing,
  });
}

export function registerWorkerCommand(program: Command): void {
  const cmd = program
    .command('worker')
    .summary('run step workers only (no Slack): more machines can join when one is not enough')
    .description(
      'Takes migration steps from the queue on the control Redis (control.url in the config, or ' +
        'CONTROL_REDIS_URL) and runs them, with the endpoints of the config file. Any number of workers ' +
        'may run at once. SIGTERM or SIGINT stops taking steps, lets running ones save a checkpoint and ' +
        'hand back, and exits within --shutdown-timeout.',
    )
    .option('--concurrency <n>', 'steps run at once by this process', '2')
    .option(
      '--shard-concurrency <n>',
      'cluster shard jobs run at once by this process (default: SHARD_CONCURRENCY, workers.shardConcurrency in the config, or 2)',
    )
    .option('--shutdown-timeout <duration>', 'longest wait for running steps on SIGTERM', '30s')
    .option('--lock-duration <duration>', 'a silent worker loses its step after this long (default 5s)')
    .option('--stalled-interval <duration>', 'how often stalled steps are looked for (default 2s)');
  addOpsOption(cmd);
  addGlobalOptions(cmd);
  cmd.action(action(runWorker));
}

async function runWorker(ctx: CliContext, opts: WorkerCliOptions): Promise<number> {
  const concurrency = Number(opts.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new UserError('--concurrency must be 1 or more');
  const shards = shardConcurrency(opts.shardConcurrency, ctx.config);
  const timing: Partial<JobTiming> = {
    shutdownTimeoutMs: durationOption(opts.shutdownTimeout, '--shutdown-timeout'),
  };
  if (opts.lockDuration) timing.lockDurationMs = durationOption(opts.lockDuration, '--lock-duration');
  if (opts.stalledInterval)
    timing.stalledIntervalMs = durationOption(opts.stalledInterval, '--stalled-interval');
  const opsSettings = readOpsSettings(opts, process.env);
  const ops = opsSettings ? await startOpsListener(opsSettings, cliLogger()) : undefined;
  let rt: Runtime;
  try {
    rt = await openCliRuntime(ctx, timing);
  } catch (err) {
    await ops?.close();
    throw err;
  }
  ops?.attach(rt);
  const registry = buildExecutorRegistry(ctx.config, rt);
  const pool = await startWorkers(rt, {
    registry,
    resolveEndpoints: configEndpointResolver(ctx.config),
    concurrency,
    shardConcurrency: shards,
    ...(ops ? { observer: ops.metrics } : {}),
  });
  ctx.note(
    `worker ${pool.workerId} taking steps from ${describeEndpoint(rt.control)} ` +
      `(concurrency ${concurrency}, shard jobs ${shards}; step kinds: ${registry.kinds().join(', ')})` +
      (ops ? `; ops listener on port ${ops.server.port}` : ''),
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  ctx.note(
    `${signal}: stopping; running steps save a checkpoint and hand back (at most ${opts.shutdownTimeout})`,
  );
  ops?.readiness.block('stopping', 'stopping');
  const { clean } = await pool.close();
  ops?.detach('stopping');
  await rt.close();
  await ops?.close();
  ctx.note(
    clean ? 'stopped' : 'stopped; steps that did not finish in time will be resumed by another worker',
  );
  return clean ? ExitCode.ok : ExitCode.problem;
}
