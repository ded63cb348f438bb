// What `migration-buddy serve` runs: the control-plane runtime (store, queue, service), step
// workers, the Bolt app, and the relays that turn audit events and progress into Slack messages.
// Startup order makes sure nothing is missed: the event subscription exists before the first
// command can create a migration. Shutdown goes the other way: stop taking requests, let started
// commands finish, let running steps checkpoint and hand back, post what is left, disconnect.
import { webApi } from '@slack/bolt';
import type { Config } from '../config/load.js';
import { buildExecutorRegistry, configEndpointResolver } from '../jobs/executors.js';
import { openRuntime, type Runtime, startWorkers, type WorkerPool } from '../jobs/runtime.js';
import { shardConcurrency } from '../jobs/shard-concurrency.js';
import type { JobTiming } from '../jobs/timing.js';
import type { Endpoint } from '../redis/endpoint.js';
import { approvalSettingsFromConfig } from '../runbook/settings.js';
import type { ExecutorRegistry } from '../runbook/step-executor.js';
import type { StepRunObserver } from '../runbook/step-observer.js';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { SlackApiObserver } from './api-calls.js';
import { type CreateSlackAppOptions, createSlackApp, type SlackApp, slackClientOptions } from './app.js';
import { RequesterAccess } from './directory/requesters.js';
import { SlackUserGroupDirectory } from './directory/user-groups.js';
import type { SlackGateway } from './gateway.js';
import { InFlight } from './in-flight.js';
import { StepDecisions } from './listeners/actions/step-decision-handlers.js';
import { MigrateHandlers } from './listeners/commands/migrate-handlers.js';
import { CardUpdater } from './migration-thread/card-updater.js';
import { postControlLost } from './migration-thread/control-lost.js';
import { EventRelay, type EventRelayOptions } from './migration-thread/event-relay.js';
import { SlackMessageStore } from './migration-thread/message-store.js';
import { approversHint } from './migration-views.js';
import type { SlackSettings } from './settings.js';
import { startStage } from './start-problem.js';

export interface SlackServerOptions {
  settings: Pick<SlackSettings, 'botToken' | 'mode' | 'appToken' | 'signingSecret' | 'port' | 'slackApiUrl'>;
  config: Config;
  control: Endpoint;
  logger: Logger;
  /** Key prefix on the control Redis (default `mb`). */
  prefix?: string;
  timing?: Partial<JobTiming>;
  /** false: no workers in this process (steps are run by `migration-buddy worker`). */
  workers?: false | { concurrency?: number; registry?: ExecutorRegistry };
  app?: CreateSlackAppOptions;
  /** How long user group members are cached (default 60 s). */
  directoryTtlMs?: number;
  events?: Omit<EventRelayOptions, 'approversHint'>;
  /** Longest wait for started commands on shutdown (default 15 s). */
  commandDrainMs?: number;
  /** A probe of an endpoint that has not answered by then is given up on (default 60 s). */
  probeTimeoutMs?: number;
  /** Observers of Slack API calls and step runs (the ops listener's metrics). */
  observers?: { slackApi?: SlackApiObserver; steps?: StepRunObserver };
  /** Told once the control Redis is connected, before Slack connects (the ops listener attaches). */
  onRuntime?: (runtime: Runtime) => void;
}

export interface SlackServer {
  slack: SlackApp;
  runtime: Runtime;
  pool: WorkerPool | undefined;
  /** Graceful stop; `clean` is false when steps or commands had to be left unfinished. */
  stop(): Promise<{ clean: boolean }>;
}

export async function startSlackServer(options: SlackServerOptions): Promise<SlackServer> {
  const { settings, config, logger } = options;
  const log = logger.child({ component: 'serve' });
  // Group lookups use their own client: the runtime (and its service) exists before the app.
  const slackApi = options.observers?.slackApi;
  const lookupClient = new webApi.WebClient(
    settings.botToken,
    slackClientOptions(settings, undefined, slackApi),
  );
  // The token first: a bad one or an unreachable Slack fails here with a reason, before Bolt's own
  // auth.test (which it would start unawaited at construction) and before the control Redis.
  const auth = await startStage('slack', () => lookupClient.auth.test());
  const botIdentity =
    typeof auth.bot_id === 'string' && typeof auth.user_id === 'string'
      ? { botId: auth.bot_id, botUserId: auth.user_id }
      : undefined;
  const directory = new SlackUserGroupDirectory(lookupClient, {
    ttlMs: options.directoryTtlMs ?? 60_000,
    logger: log,
  });
  const approvals = approvalSettingsFromConfig(config);
  const runtime = await startStage('control', () =>
    openRuntime({
      control: options.control,
      logger,
      ...(options.prefix ? { prefix: options.prefix } : {}),
      settings: approvals,
      directory,
      ...(options.timing ? { timing: options.timing } : {}),
    }),
  );
  options.onRuntime?.(runtime);
  const { service } = runtime;
  const messages = new SlackMessageStore(runtime.redis, runtime.prefix);
  const inFlight = new InFlight();
  const access = new RequesterAccess(config, directory);

  let cards: CardUpdater | undefined;
  let relay: EventRelay | undefined;
  let threads: SlackGateway | undefined;
  let pool: WorkerPool | undefined;
  let slack: SlackApp | undefined;
  try {
    slack = createSlackApp(
      settings,
      logger,
      ({ client, gateway }) => {
        threads = gateway;
        cards = new CardUpdater(service, gateway, messages, log, {
          progressIntervalMs: options.app?.gateway?.minUpdateIntervalMs ?? 3000,
        });
        relay = new EventRelay(service, gateway, messages, cards, log, {
          ...options.events,
          approversHint: approversHint(approvals.approvers),
        });
        const commands = new MigrateHandlers({
          config,
          service,
          gateway,
          client,
          access,
          cards,
          logger: log,
          ...(options.probeTimeoutMs ? { probeTimeoutMs: options.probeTimeoutMs } : {}),
        });
        return {
          config,
          commands: inFlight.wrap(commands),
          decisions: inFlight.wrap(new StepDecisions(service)),
          migrations: service,
        };
      },
      {
        ...options.app,
        ...(slackApi ? { apiObserver: slackApi } : {}),
        ...(botIdentity && !options.app?.botIdentity ? { botIdentity } : {}),
      },
    );
    // Subscriptions first: a command may create a migration as soon as the app listens.
    await relay!.start();
    await cards!.followProgress();
    if (options.workers !== false) {
      pool = await startWorkers(runtime, {
        registry: options.workers?.registry ?? buildExecutorRegistry(config, runtime),
        resolveEndpoints: configEndpointResolver(config),
        concurrency: options.workers?.concurrency ?? 2,
        shardConcurrency: shardConcurrency(undefined, config),
        onControlLost: (lost) => {
          if (threads) void postControlLost(threads, lost, log);
        },
        ...(options.observers?.steps ? { observer: options.observers.steps } : {}),
      });
    }
    const receiver = slack;
    await startStage('receiver', () => receiver.start());
  } catch (err) {
    // The caller reports the failure (serve: one line per attempt); this is the detail.
    log.debug({ error: errorMessage(err) }, 'could not start');
    await pool?.close().catch(() => undefined);
    await relay?.close().catch(() => undefined);
    await cards?.close().catch(() => undefined);
    await slack?.stop().catch(() => undefined);
    await runtime.close();
    throw err;
  }

  const started = slack;
  let stopping: Promise<{ clean: boolean }> | undefined;
  return {
    slack: started,
    runtime,
    pool,
    stop() {
      stopping ??= (async () => {
        await started
          .stopReceiving()
          .catch((err) => log.warn({ error: errorMessage(err) }, 'stop receiving'));
        const commandsDone = await inFlight.idle(options.commandDrainMs ?? 15_000);
        if (!commandsDone) log.warn({ running: inFlight.size }, 'commands still running at shutdown');
        const steps = pool ? await pool.close() : { clean: true };
        // The last events (steps handing back) are posted before the relays stop.
        await relay?.caughtUp(5000);
        await relay?.close();
        await cards?.close();
        await started.stop();
        await runtime.close();
        return { clean: commandsDone && steps.clean };
      })();
      return stopping;
    },
  };
}
