// The /migrate subcommands that need the runbook, run after the listener has acked (so probing and
// planning can take their time). Every refusal is a UserError/SlackRefusal shown to the person
// who asked; channel posts go through the gateway. Plan and audit have their own modules.
import type { webApi } from '@slack/bolt';
import type { Config } from '../../../config/load.js';
import { verify } from '../../../engine/verify/index.js';
import { resolveServer } from '../../../redis/resolve.js';
import { isInvolved, policyOf } from '../../../runbook/approval-policy.js';
import { serverKey } from '../../../runbook/locks.js';
import type { Migration } from '../../../runbook/model.js';
import type { MigrationService } from '../../../runbook/service.js';
import { judge, verifyOptionsFromParams } from '../../../strategies/shared/verify.js';
import { UserError } from '../../../util/errors.js';
import type { Logger } from '../../../util/logger.js';
import { contextBlock, message, section } from '../../blocks/message.js';
import { migrationListMessage } from '../../blocks/migration-list.js';
import { migrationCard } from '../../blocks/status-card.js';
import { escapeMrkdwn, mention, sentence } from '../../blocks/text.js';
import type { RequesterAccess } from '../../directory/requesters.js';
import { SlackRefusal } from '../../errors.js';
import type { SlackGateway } from '../../gateway.js';
import type { CardUpdater } from '../../migration-thread/card-updater.js';
import { rootOf } from '../../migration-thread/message-store.js';
import { cardView, migrationSummary } from '../../migration-views.js';
import type { PlanCommand } from '../../slash-command/parse.js';
import { USAGE } from '../../slash-command/usage.js';
import type { CommandReply } from '../reply.js';
import { shareAuditTrail } from './migrate-audit.js';
import { boundedProbe, type PlanDeps, planFromSlack, type SlackProbe } from './migrate-plan.js';
import {
  type CommandRequest,
  configuredEndpoint,
  existingMigration,
  type MigrateCommandHandlers,
  noSuchMigration,
} from './migrate-subcommands.js';

export interface MigrateHandlerDeps {
  config: Pick<Config, 'file' | 'resolvedEndpoints' | 'copy' | 'hooks'>;
  service: MigrationService;
  gateway: SlackGateway;
  client: Pick<webApi.WebClient, 'filesUploadV2'>;
  access: RequesterAccess;
  cards: CardUpdater;
  logger: Logger;
  /** Replaceable in tests; default: the real probe. */
  probe?: SlackProbe;
  /** A probe that has not answered by then is given up on (default 60 s). */
  probeTimeoutMs?: number;
  now?: () => number;
}

export class MigrateHandlers implements MigrateCommandHandlers {
  private readonly planDeps: PlanDeps;
  private readonly now: () => number;

  constructor(private readonly deps: MigrateHandlerDeps) {
    this.planDeps = { ...deps, probe: boundedProbe(deps.probe, deps.probeTimeoutMs) };
    this.now = deps.now ?? Date.now;
  }

  plan(command: PlanCommand, request: CommandRequest): Promise<CommandReply | undefined> {
    return planFromSlack(this.planDeps, command, request);
  }

  async status(command: { id?: string }, request: CommandRequest): Promise<CommandReply | undefined> {
    let m: Migration | undefined;
    if (command.id) {
      m = await existingMigration(this.deps.service, command.id, USAGE.status);
    } else {
      const recent = await this.deps.service.list({ limit: 50 });
      m = recent.find((r) => rootOf(r)?.channel === request.channelId);
      if (!m) {
        throw new SlackRefusal(
          'No migration was planned in this channel yet.',
          '`/migrate list` shows every migration; `/migrate status <id>` shows one.',
        );
      }
    }
    const running = m.steps.some((s) => s.status === 'running');
    const progress = running ? await this.deps.service.progress(m.id) : {};
    const card = migrationCard(cardView(m, progress));
    const root = rootOf(m);
    if (root) card.blocks.push(contextBlock(`Its thread is in <#${root.channel}>.`));
    return card;
  }

  async list(): Promise<CommandReply | undefined> {
    const recent = await this.deps.service.list({ limit: 20 });
    return migrationListMessage(recent.map(migrationSummary));
  }

  async verify(command: { id: string }, request: CommandRequest): Promise<CommandReply | undefined> {
    const m = await existingMigration(this.deps.service, command.id, USAGE.verify);
    await this.assertInvolvedOrRequester(m, request.userId, 'verify');
    const source = configuredEndpoint(this.deps.config, m.source);
    const target = configuredEndpoint(this.deps.config, m.target);
    const planned = m.steps.find((s) => s.kind === 'verify')?.params;
    const params = planned ?? { dbs: m.options.dbs ?? 'all', match: m.options.match ?? null };
    const report = await verify(source, target, {
      ...verifyOptionsFromParams(params),
      logger: this.deps.logger,
    });
    const tolerance = typeof params.countTolerancePercent === 'number' ? params.countTolerancePercent : 0;
    const outcome = judge(report, tolerance);
    // Into the audit trail, so it is posted in the thread like every other result.
    await this.deps.service.store.append(m.id, [
      {
        migrationId: m.id,
        type: 'verification',
        at: new Date(this.now()).toISOString(),
        actor: request.userId,
        message: `${request.userId} asked for a verification: ${outcome.summary}`,
        data: { ...outcome.result, verdict: outcome.verdict ?? 'ok', onRequest: true },
      },
    ]);
    const icon = outcome.verdict === 'failed' ? ':x:' : ':white_check_mark:';
    return message(`Verification of ${m.id}: ${outcome.summary}`, [
      section(`${icon} Verification of \`${escapeMrkdwn(m.id)}\`: ${escapeMrkdwn(outcome.summary)}`),
      contextBlock(
        rootOf(m) ? 'The result is also posted in the migration thread.' : 'Recorded in the audit trail.',
      ),
    ]);
  }

  async abort(command: { id: string }, request: CommandRequest): Promise<CommandReply | undefined> {
    const res = await this.deps.service.abort(command.id, request.userId, 'aborted from Slack');
    if (!res.ok) {
      if (res.code === 'not_found') throw noSuchMigration(USAGE.abort);
      throw new UserError(sentence(res.reason));
    }
    return message(`Migration ${command.id} aborted`, [
      section(`:octagonal_sign: ${escapeMrkdwn(sentence(res.message))}`),
    ]);
  }

  async audit(command: { id: string }, request: CommandRequest): Promise<CommandReply | undefined> {
    const m = await existingMigration(this.deps.service, command.id, USAGE.audit);
    return shareAuditTrail(this.deps, m, request);
  }

  async unlock(command: { endpoint: string }, request: CommandRequest): Promise<CommandReply | undefined> {
    const endpoint = configuredEndpoint(this.deps.config, command.endpoint, USAGE.unlock);
    const server = serverKey(await resolveServer(endpoint));
    const res = await this.deps.service.unlock(server, request.userId);
    if (!res.ok) {
      throw new SlackRefusal(
        sentence(res.reason),
        res.code === 'not_approver' ? 'Ask one of the configured approvers to clear it.' : undefined,
      );
    }
    return message(`Unlocked ${endpoint.name}`, [
      section(`:unlock: ${escapeMrkdwn(`${endpoint.name} (${server}): ${sentence(res.message)}`)}`),
    ]);
  }

  private async assertInvolvedOrRequester(m: Migration, userId: string, verb: string): Promise<void> {
    const who = await this.deps.service.identify(userId, policyOf(m).approvers.groups);
    if (isInvolved(m, who)) return;
    if (this.deps.access.restricted && (await this.deps.access.mayRequest(userId))) return;
    throw new SlackRefusal(
      `Only the requester, the buddy or an approver of ${m.id} can ${verb} it.`,
      `Ask ${mention(m.requester)}${m.buddy ? ` or ${mention(m.buddy)}` : ''}.`,
    );
  }
}
