import type { Command } from 'commander';
import type { Ops } from '../../ops/ops.js';
import { describeEndpoint } from '../../redis/endpoint.js';
import { type SlackServer, startSlackServer } from '../../slack/server.js';
import { readServeSettings, SettingsError } from '../../slack/settings.js';
import { ServeStartError } from '../../slack/start-problem.js';
import { type BackoffOptions, backoffMs } from '../../util/backoff.js';
import { ExitCode, errorMessage, UserError } from '../../util/errors.js';
import { createLogger } from '../../util/logger.js';
import { scrub } from '../../util/secrets.js';
import { sleep } from '../../util/sleep.js';
import { addGlobalOptions } from '../context.js';
import { addOpsOption, type OpsCliOptions, readOpsSettings, startOpsListener } from '../ops-option.js';
import { durationOption } from './worker.js';

/** Retries of a start that failed (Slack unreachable, a bad token, the control Redis down). */
const START_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 30_000 };
/** Readiness condition held while the start is (re)tried. */
const STARTING = 'start';

interface ServeCliOptions extends OpsCliOptions {
  config?: string;
  json?: boolean;
  workers: boolean;
  concurrency: string;
  shutdownTimeout: string;
}

export function registerServeCommand(program: Command): void {
  const cmd = program
    .command('serve')
    .summary('run the Slack app and step workers (the usual way to run migration-buddy)')
    .description(
      'Starts the Slack app (/migrate, approval buttons, status cards, App Home) and step workers in one ' +
        'process. Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP on PORT (default 3000) at ' +
        '/slack/events. Settings: SLACK_BOT_TOKEN, SLACK_APP_TOKEN or SLACK_SIGNING_SECRET, PORT, ' +
        'SLACK_API_URL (tests), the config file (--config, else MIGRATION_BUDDY_CONFIG, else ' +
        './migration-buddy.yml), and the control Redis: control.url in the config file wins over ' +
        'CONTROL_REDIS_URL (the same rule as `worker`, so both always use the same control Redis). ' +
        'Every missing or invalid setting is reported at start, one line each. When Slack cannot be ' +
        'reached, the token is refused or the control Redis is down, the start is retried with backoff ' +
        '(one log line per attempt with the reason) and /readyz answers 503 until it succeeds. Any number of serve and ' +
        'worker processes may run at once. SIGTERM or SIGINT stops taking requests, lets started ' +
        'commands finish and running steps save a checkpoint, then exits.',
    )
    .option('--no-workers', 'run only the Slack app; `migration-buddy worker` processes run the steps')
    .option('--concurrency <n>', 'steps run at once by this process', '2')
    .option('--shutdown-timeout <duration>', 'longest wait for running steps on SIGTERM', '30s');
  addOpsOption(cmd);
  addGlobalOptions(cmd);
  cmd.action(async (_opts: unknown, command: Command) => {
    process.exitCode = await runServe(command.optsWithGlobals() as ServeCliOptions);
  });
}

export async function runServe(opts: ServeCliOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const fail = (lines: string[]) => {
    if (opts.json) process.stdout.write(`${JSON.stringify({ error: 'cannot start', problems: lines })}\n`);
    else
      process.stderr.write(
        `${scrub(['migration-buddy serve cannot start:', ...lines.map((l) => `  - ${l}`)].join('\n'))}\n`,
      );
    return ExitCode.usage;
  };
  const problems: string[] = [];
  let serve: ReturnType<typeof readServeSettings> | undefined;
  try {
    serve = readServeSettings(env, opts.config ? { configPath: opts.config } : {});
  } catch (err) {
    if (err instanceof SettingsError) problems.push(...err.problems);
    else problems.push(errorMessage(err));
  }
  const concurrency = Number(opts.concurrency);
  if (opts.workers && (!Number.isInteger(concurrency) || concurrency < 1)) {
    problems.push(`--concurrency must be 1 or more`);
  }
  let shutdownTimeoutMs = 30_000;
  try {
    shutdownTimeoutMs = durationOption(opts.shutdownTimeout, '--shutdown-timeout');
  } catch (err) {
    problems.push(errorMessage(err));
  }
  let opsSettings: ReturnType<typeof readOpsSettings>;
  try {
    opsSettings = readOpsSettings(opts, env);
  } catch (err) {
    problems.push(...errorMessage(err).split('\n'));
  }
  if (problems.length > 0 || !serve) return fail(problems);

  const logger = createLogger({ level: env.LOG_LEVEL ?? 'info' });
  for (const note of serve.notes) logger.warn(note);
  let ops: Ops | undefined;
  if (opsSettings) {
    try {
      ops = await startOpsListener(opsSettings, logger);
    } catch (err) {
      return fail([errorMessage(err)]);
    }
  }
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  ops?.detach(); // until the first attempt ends, STARTING says why it is not ready
  ops?.readiness.block(STARTING, 'starting: Slack and the control Redis are not connected yet');
  let server: SlackServer | undefined;
  for (let attempt = 0; !server; attempt++) {
    try {
      server = await startSlackServer({
        settings: serve.settings,
        config: serve.config,
        control: serve.control,
        logger,
        timing: { shutdownTimeoutMs },
        workers: opts.workers ? { concurrency } : false,
        ...(ops
          ? { observers: { slackApi: ops.metrics, steps: ops.metrics }, onRuntime: (rt) => ops.attach(rt) }
          : {}),
      });
    } catch (err) {
      ops?.detach();
      const reason =
        err instanceof ServeStartError || err instanceof UserError
          ? err.message
          : `could not start: ${errorMessage(err)}`;
      const waitMs = backoffMs(attempt, START_BACKOFF);
      ops?.readiness.block(STARTING, reason);
      logger.warn(
        { attempt: attempt + 1, retryInMs: waitMs },
        `serve could not start (attempt ${attempt + 1}): ${reason}; retrying in ${waitMs / 1000} s`,
      );
      const signal = await Promise.race([sleep(waitMs).then(() => undefined), signalled]);
      if (signal) {
        logger.info({ signal }, 'stopped before the start succeeded');
        await ops?.close();
        return ExitCode.problem;
      }
    }
  }
  ops?.readiness.clear(STARTING);
  logger.info(
    {
      mode: serve.settings.mode,
      port: server.slack.port(),
      control: describeEndpoint(serve.control),
      config: serve.config.file,
      workers: server.pool ? server.pool.workerId : 'none',
      ...(ops ? { opsPort: ops.server.port } : {}),
    },
    'migration-buddy serve is running',
  );

  const signal = await signalled;
  ops?.readiness.block(STARTING, 'stopping');
  logger.info({ signal }, 'stopping: no new requests; running steps save a checkpoint and hand back');
  const again = () => {
    logger.warn('second signal: leaving without waiting');
    process.exit(ExitCode.problem);
  };
  process.once('SIGTERM', again);
  process.once('SIGINT', again);
  // A backstop in case something hangs past every bound above.
  const backstop = setTimeout(() => {
    logger.error('shutdown took too long; exiting');
    process.exit(ExitCode.problem);
  }, shutdownTimeoutMs + 30_000);
  backstop.unref();
  const { clean } = await server.stop();
  ops?.detach('stopping');
  await ops?.close();
  clearTimeout(backstop);
  logger.info({ clean }, 'stopped');
  return clean ? ExitCode.ok : ExitCode.problem;
}
