// Composition root of the Slack side: the Bolt App with the right receiver, a WebClient that hands
// rate limits to our gateway, the pino logger adapter, and the listeners.
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel, type Receiver, SocketModeReceiver, type webApi } from '@slack/bolt';
import { errorMessage } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { observedFetch, type SlackApiObserver } from './api-calls.js';
import { guardRequestListener } from './edge/http-guard.js';
import { guardSocketMode } from './edge/socket-guard.js';
import { type GatewayOptions, SlackGateway } from './gateway.js';
import { registerListeners, type SlackDeps } from './listeners/index.js';
import { redactCredentials, slackLoggerFrom } from './logger-adapter.js';
import type { SlackSettings } from './settings.js';

export const EVENTS_PATH = '/slack/events';
export const HEALTH_PATH = '/healthz';

export interface CreateSlackAppOptions {
  gateway?: GatewayOptions;
  /** Socket Mode connection tuning (tests shorten or disable reconnects). */
  socketMode?: { autoReconnectEnabled?: boolean; clientPingTimeout?: number; serverPingTimeout?: number };
  /**
   * Let Bolt/WebClient/Socket Mode log at debug level when our logger does. Off by default: their
   * debug logs carry whole payloads, including whatever people typed.
   */
  debugSlackLibraries?: boolean;
  /** Told of every Web API call (metrics). */
  apiObserver?: SlackApiObserver;
  /** The bot's ids from an auth.test already made: Bolt then makes none of its own at construction. */
  botIdentity?: { botId: string; botUserId: string };
  /** Replaces registerListeners (tests of the app shell). */
  registerListeners?: (app: App, deps: SlackDeps) => void;
}

export interface SlackApp {
  app: App;
  client: webApi.WebClient;
  gateway: SlackGateway;
  mode: SlackSettings['mode'];
  /** Connects (Socket Mode) or listens (HTTP); resolves when ready. */
  start(): Promise<void>;
  /** Stops taking requests (closes the HTTP server or the socket); the gateway keeps sending. */
  stopReceiving(): Promise<void>;
  /** Stops receiving, sends what the gateway still holds, and disconnects. */
  stop(): Promise<void>;
  /** HTTP mode, once started: the port listened on (PORT=0 picks a free one). */
  port(): number | undefined;
}

/**
 * WebClient options for every Slack call we make. `rejectRateLimitedCalls` makes a 429 throw
 * (to the gateway, which delays only the affected message) instead of pausing the client's whole
 * queue for Retry-After and retrying for ~30 minutes; retries are the gateway's job, so the
 * client does none of its own.
 */
export function slackClientOptions(
  settings: Pick<SlackSettings, 'slackApiUrl'>,
  slackLogger?: webApi.Logger,
  apiObserver?: SlackApiObserver,
): webApi.WebClientOptions {
  const options: webApi.WebClientOptions = {
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: 30_000,
  };
  if (settings.slackApiUrl) options.slackApiUrl = settings.slackApiUrl;
  if (slackLogger) options.logger = slackLogger;
  if (apiObserver) options.fetch = observedFetch(apiObserver);
  return options;
}

/** What the listeners need besides the gateway and logger; a function gets the app's own client and gateway. */
export type AppDeps =
  | Omit<SlackDeps, 'gateway' | 'logger'>
  | ((parts: { client: webApi.WebClient; gateway: SlackGateway }) => Omit<SlackDeps, 'gateway' | 'logger'>);

export function createSlackApp(
  settings: Pick<SlackSettings, 'botToken' | 'mode' | 'appToken' | 'signingSecret' | 'port' | 'slackApiUrl'>,
  logger: Logger,
  deps: AppDeps,
  options: CreateSlackAppOptions = {},
): SlackApp {
  const log = logger.child({ component: 'slack' });
  const minLevel = options.debugSlackLibraries ? LogLevel.DEBUG : LogLevel.INFO;
  const slackLogger = slackLoggerFrom(logger, 'bolt', minLevel);
  // Passed to Bolt too, or it would reset the logger's level to its own default.
  const logLevel = slackLogger.getLevel();
  let server: import('node:http').Server | undefined;

  let receiver: Receiver;
  if (settings.mode === 'socket') {
    // Only apps.connections.open goes through this client; it keeps socket-mode's own retry policy.
    const socketClientOptions: webApi.WebClientOptions = {};
    if (settings.slackApiUrl) socketClientOptions.slackApiUrl = settings.slackApiUrl;
    if (options.apiObserver) socketClientOptions.fetch = observedFetch(options.apiObserver);
    receiver = new SocketModeReceiver({
      appToken: settings.appToken!,
      logger: slackLoggerFrom(logger, 'socket-mode', minLevel),
      logLevel,
      installerOptions: { clientOptions: socketClientOptions },
      ...options.socketMode,
    });
    guardSocketMode((receiver as SocketModeReceiver).client, log);
  } else {
    const http = new HTTPReceiver({
      signingSecret: settings.signingSecret!,
      endpoints: EVENTS_PATH,
      signatureVerification: true, // checked again by the guard, which also refuses future timestamps
      logger: slackLogger,
      logLevel,
      customRoutes: [{ path: HEALTH_PATH, method: ['GET'], handler: (_req, res) => healthy(res) }],
    });
    // Bolt's server calls this property for every request: the guard answers what Bolt would
    // crash on, time out on, or wrongly accept.
    http.requestListener = guardRequestListener(http.requestListener, {
      signingSecret: settings.signingSecret!,
      path: EVENTS_PATH,
      logger: log,
    });
    receiver = http;
  }

  const app = new App({
    token: settings.botToken,
    receiver,
    logger: slackLogger,
    logLevel,
    clientOptions: slackClientOptions(settings, slackLogger, options.apiObserver),
    // An auth.test Bolt starts at construction rejects unhandled when Slack is unreachable.
    ...(options.botIdentity ?? {}),
  });
  app.error(async (error) => {
    log.error(
      { code: (error as { code?: string }).code, error: redactCredentials(errorMessage(error)) },
      'Slack listener error',
    );
  });

  const gateway = new SlackGateway(app.client, log, options.gateway);
  const resolved = typeof deps === 'function' ? deps({ client: app.client, gateway }) : deps;
  (options.registerListeners ?? registerListeners)(app, { ...resolved, gateway, logger: log });

  let receiving: Promise<void> | undefined;
  const stopReceiving = () => {
    receiving ??= (async () => {
      if (receiver instanceof SocketModeReceiver) {
        // Bolt's stop() does not wait for the WebSocket close handshake; wait for it (bounded).
        const client = receiver.client;
        const closed = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5000);
          client.once('disconnected', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        await app.stop();
        await closed;
      } else {
        await app.stop();
      }
      server = undefined;
    })();
    return receiving;
  };

  return {
    app,
    client: app.client,
    gateway,
    mode: settings.mode,
    async start() {
      if (receiver instanceof HTTPReceiver) {
        server = await receiver.start(settings.port);
        log.info(
          { port: (server.address() as AddressInfo).port, path: EVENTS_PATH },
          'Slack app listening (HTTP)',
        );
      } else {
        await app.start();
        log.info('Slack app connected (Socket Mode)');
      }
    },
    stopReceiving,
    async stop() {
      await stopReceiving();
      await gateway.flush();
      gateway.stop();
    },
    port() {
      return server ? (server.address() as AddressInfo | null)?.port : undefined;
    },
  };
}

function healthy(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok');
}
