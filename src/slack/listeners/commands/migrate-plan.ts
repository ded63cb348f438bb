// `/migrate plan` after the ack: the use case "plan and create a migration" (probe, plan, hooks,
// who may approve, locks, create), with Slack's part in between: the plan's card goes up in the
// channel before the migration is created, so it is created knowing its thread; a blocked plan is
// shown to the requester only. The migration is then started.
import type { Config } from '../../../config/load.js';
import { withDefaults } from '../../../planner/defaults.js';
import type { PlanOptions } from '../../../planner/types.js';
import { probeEndpoint } from '../../../probe/index.js';
import type { ProbeResult } from '../../../probe/types.js';
import type { Endpoint } from '../../../redis/endpoint.js';
import type { RefusalCode } from '../../../runbook/approval-policy.js';
import { LockHeldError } from '../../../runbook/locks.js';
import type { MigrationService } from '../../../runbook/service.js';
import {
  createPlannedMigration,
  PlanRefusedError,
  type PreparedPlan,
  ProbeFailedError,
  planDatabases,
  preparePlan,
} from '../../../usecases/plan-migration.js';
import { errorMessage, UserError } from '../../../util/errors.js';
import { withTimeout } from '../../../util/timeout.js';
import { message, type SlackMessage, section } from '../../blocks/message.js';
import { migrationCard } from '../../blocks/status-card.js';
import { escapeMrkdwn, mention, sentence } from '../../blocks/text.js';
import type { RequesterAccess } from '../../directory/requesters.js';
import { SlackRefusal } from '../../errors.js';
import type { MessageRef, SlackGateway } from '../../gateway.js';
import { redactCredentials } from '../../logger-adapter.js';
import type { CardUpdater } from '../../migration-thread/card-updater.js';
import { rootMeta, rootOf } from '../../migration-thread/message-store.js';
import { type PlanCardInput, planCardView } from '../../migration-views.js';
import type { PlanCommand } from '../../slash-command/parse.js';
import { USAGE } from '../../slash-command/usage.js';
import type { CommandReply } from '../reply.js';
import { type CommandRequest, configuredEndpoint } from './migrate-subcommands.js';

export type SlackProbe = (endpoint: Endpoint) => Promise<ProbeResult>;

export interface PlanDeps {
  config: Pick<Config, 'file' | 'resolvedEndpoints' | 'copy' | 'hooks'>;
  service: MigrationService;
  gateway: Pick<SlackGateway, 'postRoot' | 'update'>;
  access: Pick<RequesterAccess, 'assertMayRequest'>;
  cards: Pick<CardUpdater, 'remember' | 'refresh'>;
  /** Bounded (boundedProbe): a probe that never answers must not keep the person waiting. */
  probe: SlackProbe;
}

/**
 * The probe the plan runs: a server that accepts the connection and then says nothing would keep
 * it waiting for ever; the person is told after `timeoutMs` instead.
 */
export function boundedProbe(probe: SlackProbe = (e) => probeEndpoint(e), timeoutMs = 60_000): SlackProbe {
  return (e) => withTimeout(probe(e), timeoutMs, e.name, () => new ProbeTimeout(e.name, timeoutMs));
}

export async function planFromSlack(
  deps: PlanDeps,
  command: PlanCommand,
  request: CommandRequest,
): Promise<CommandReply> {
  const { service, gateway, access } = deps;
  await access.assertMayRequest(request.userId);
  if (command.buddyId === request.userId) {
    throw new SlackRefusal(
      'You cannot be your own buddy: the buddy approves the steps you asked for.',
      'Name someone else with `buddy=@someone`, or leave it out to let the configured approvers decide.',
    );
  }
  // Who could approve, checked before anything is probed (the quorum once the steps are known).
  const early = await service.checkPlanPolicy(request.userId, command.buddyId, []);
  if (early) throw planRefusal(early.code, early.reason);
  const source = configuredEndpoint(deps.config, command.source);
  const target = configuredEndpoint(deps.config, command.target);
  const options: PlanOptions = withDefaults({
    strategy: command.strategy,
    onNonEmptyTarget: command.onNonEmptyTarget,
    // db=all is the default: a database in the endpoints' URLs may select instead.
    ...planDatabases(source, target, command.dbs === 'all' ? undefined : command.dbs),
    match: command.match,
    bigKeyThresholdBytes: deps.config.copy?.bigKeyThresholdBytes,
  });
  let prepared: PreparedPlan;
  try {
    prepared = await preparePlan(
      { source, target, options, hooks: deps.config.hooks, rates: (pair) => service.copyRates.read(pair) },
      (e) => deps.probe(e),
    );
  } catch (err) {
    if (!(err instanceof ProbeFailedError)) throw err;
    const why =
      err.cause instanceof ProbeTimeout ? err.cause.message : redactCredentials(errorMessage(err.cause));
    throw new SlackRefusal(
      `Could not probe ${err.endpoint.name}: ${why}`,
      'Check that the server is up and reachable from the app, then plan again.',
    );
  }
  const { plan } = prepared;
  const names: PlanCardInput = {
    source: source.name,
    target: target.name,
    requesterId: request.userId,
    policy: service.settings,
  };
  if (command.buddyId) names.buddyId = command.buddyId;
  if (prepared.blocked) return migrationCard(planCardView(plan, names));

  // The card goes up once every check passed and before the migration is created, so it is
  // created knowing where its thread is: every event from the first one on can be posted there.
  let root: MessageRef | undefined;
  let id: string;
  try {
    const migration = await createPlannedMigration(service, prepared, {
      requester: request.userId,
      ...(command.buddyId ? { buddy: command.buddyId } : {}),
      announce: async (newId) => {
        root = await postCard(
          gateway,
          request.channelId,
          migrationCard(planCardView(plan, { ...names, id: newId })),
        );
        deps.cards.remember(newId, root);
        return rootMeta(root);
      },
    });
    id = migration.id;
  } catch (err) {
    const refusal = createRefusal(err);
    if (root) {
      await gateway.update(
        root,
        message('Migration was not created', [
          section(`:x: This migration was not created: ${escapeMrkdwn(errorMessage(err))}`),
        ]),
      );
    }
    throw refusal;
  }
  const started = await service.start(id, request.userId);
  if (!started.ok) throw new UserError(sentence(started.reason));
  void deps.cards.refresh(id);
  const who = command.buddyId ? mention(command.buddyId) : 'an approver';
  return message(`Migration ${id} planned`, [
    section(
      `:white_check_mark: Migration \`${id}\` is planned (${escapeMrkdwn(plan.strategy ?? '')}) and posted in this ` +
        `channel. ${who} approves each gated step in its thread.`,
    ),
  ]);
}

async function postCard(
  gateway: Pick<SlackGateway, 'postRoot'>,
  channelId: string,
  card: SlackMessage,
): Promise<MessageRef> {
  try {
    return await gateway.postRoot(channelId, card);
  } catch (err) {
    const code = (err as { slackError?: string }).slackError;
    if (code === 'not_in_channel' || code === 'channel_not_found') {
      throw new SlackRefusal(
        'I cannot post in this channel.',
        'Invite me first (`/invite @migration-buddy`), then plan again.',
      );
    }
    throw err;
  }
}

class ProbeTimeout extends Error {
  constructor(name: string, ms: number) {
    super(
      `${name} did not answer within ${Math.round(ms / 1000)} s (it accepts connections but says nothing)`,
    );
  }
}

const PLAN_NEXT: Partial<Record<RefusalCode, string>> = {
  requester:
    'Name someone else with `buddy=@someone`, or leave it out to let the configured approvers decide.',
  no_approvers: 'Name your buddy with `buddy=@someone`, or ask an admin to add `approvers` to the config.',
  buddy_not_approver: 'Name one of the approvers as your buddy, or leave `buddy=` out.',
  quorum_unreachable: 'Ask an admin to add approvers, or to lower `approvals.quorum`, in the config.',
};

function planRefusal(code: RefusalCode, reason: string): SlackRefusal {
  return new SlackRefusal(sentence(reason), PLAN_NEXT[code], code === 'requester' ? undefined : USAGE.plan);
}

/** What the person who planned is told when the use case refused to create the migration. */
function createRefusal(err: unknown): unknown {
  if (err instanceof PlanRefusedError) return planRefusal(err.code, err.message);
  if (err instanceof LockHeldError) {
    const thread = err.holder.migration && rootOf(err.holder.migration);
    return new SlackRefusal(
      sentence(err.message),
      thread
        ? `Its thread is in <#${thread.channel}>: \`/migrate status ${err.holder.migrationId}\` shows where it stands.`
        : `\`/migrate status ${err.holder.migrationId}\` shows where it stands.`,
    );
  }
  return err;
}
