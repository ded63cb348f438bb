// App Home: help and the configured endpoints, then the migrations (app-home-migrations.ts) when
// the app has a runbook to read. Published through the gateway, so repeated opens coalesce.
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { endpointSummaries, endpointsMessage } from '../../blocks/endpoints.js';
import { helpMessage } from '../../blocks/help.js';
import { divider, homeView } from '../../blocks/message.js';
import type { KnownBlock } from '../../blocks/text.js';
import type { SlackDeps } from '../deps.js';
import { homeMigrationBlocks } from './app-home-migrations.js';

type Args = SlackEventMiddlewareArgs<'app_home_opened'> & Pick<AllMiddlewareArgs, 'logger'>;

export function homeBlocks(deps: Pick<SlackDeps, 'config'>, extra: KnownBlock[] = []): KnownBlock[] {
  return [
    ...helpMessage().blocks,
    divider(),
    ...endpointsMessage(endpointSummaries(deps.config), deps.config.file).blocks,
    ...(extra.length > 0 ? [divider(), ...extra] : []),
  ];
}

export function appHomeOpened(deps: Pick<SlackDeps, 'config' | 'gateway' | 'logger' | 'migrations'>) {
  return async ({ event }: Args): Promise<void> => {
    if (event.tab !== 'home') return;
    let extra: KnownBlock[] = [];
    try {
      if (deps.migrations) extra = await homeMigrationBlocks(deps.migrations);
    } catch (err) {
      deps.logger.warn({ user: event.user, error: String(err) }, 'could not build the App Home extras');
    }
    const result = await deps.gateway.publishHome(event.user, homeView(homeBlocks(deps, extra)));
    if (!result.ok) deps.logger.warn({ user: event.user, error: result.error }, 'could not publish App Home');
  };
}
