// The /migrate subcommands that need the runbook, after the listener has acked (so probing and
// planning can take their time). Every refusal is a UserError/SlackRefusal shown to the person
// who asked; channel posts go through the gateway.
import type { webApi } from '@slack/bolt';
import type { Config } from '../../../config/load.js';
import { verify } from '../../../engine/verify/index.js';
import { withDefaults } from '../../../planner/defaults.js';
import type { PlanOptions } from '../../../planner/types.js';
import { probeEndpoint } from '../../../probe/index.js';
import type { ProbeResult } from '../../../probe/types.js';
import type { Endpoint } from '../../../redis/endpoint.js';
import { resolveServer } from '../../../redis/resolve.js';
import { isInvolved, policyOf, type RefusalCode } from '../../../runbook/approval-policy.js';
import { LockHeldError, serverKey } from '../../../runbook/locks.js';
import type { Migration } from '../../../runbook/model.js';
import type { MigrationService } from '../../../runbook/service.js';
import { judge, verifyOptionsFromParams } from '../../../strategies/shared/verify.js';
import {
  createPlannedMigration,
  PlanRefusedError,
  type PreparedPlan,
  ProbeFailedError,
  planDatabases,
  preparePlan,
} from '../../../usecases/plan-migration.js';
import { errorMessage, UserError } from '../../../util/errors.js';
import type { Logger } from '../../../util/logger.js';
import { scrub } from '../../../util/secrets.js';
import { unknownEndpointRefusal } from '../../blocks/endpoints.js';
import { contextBlock, message, type SlackMessage, section } from '../../blocks/message.js';
import { migrationListMessage } from '../../blocks/migration-list.js';
import { migrationCard } from '../../blocks/status-card.js';
import { escapeMrkdwn, mention } from '../../blocks/text.js';
import type { RequesterAccess } from '../../directory/requesters.js';
import { SlackRefusal } from '../../errors.js';
import type { MessageRef, SlackGateway } from '../../gateway.js';
import { redactCredentials } from '../../logger-adapter.js';
import type { CardUpdater } from '../../migration-thread/card-updater.js';
import { rootMeta, rootOf } from '../../migration-thread/message-store.js';
import { cardView, migrationSummary, type PlanCardInput, planCardView } from '../../migration-views.js';
import type { PlanCommand } from '../../slash-command/parse.js';
import { USAGE } from '../../slash-command/usage.js';
import type { CommandReply, CommandRequest, MigrateCommandHandlers } from '../deps.js';

export interface CommandHandlerDeps {
  config: Pick<Config, 'file' | 'resolvedEndpoints' | 'copy' | 'hooks'>;
  service: MigrationService;
  gateway: SlackGateway;
  client: Pick<webApi.WebClient, 'filesUploadV2'>;
  access: RequesterAccess;
  cards: CardUpdater;
  logger: Logger;
  /** Replaceable in tests; default: the real probe. */
  probe?: (endpoint: Endpoint) => Promise<ProbeResult>;
  /** A probe that has not answered by then is given up on (default 60 s). */
  probeTimeoutMs?: number;
  now?: () => number;
}

/** Lines of the audit trail per message when the file upload fails (each well under 3000 chars). */
const AUDIT_CHUNK_CHARS = 2700;
const AUDIT_MAX_MESSAGES = 20;

export class SlackCommandHandlers implements MigrateCommandHandlers {
  private readonly probe: (endpoint: Endpoint) => Promise<ProbeResult>;
  private readonly now: () => number;

  constructor(private readonly deps: CommandHandlerDeps) {
    const probe = deps.probe ?? ((e: Endpoint) => probeEndpoint(e));
    const timeoutMs = deps.probeTimeoutMs ?? 60_000;
    // A server that accepts the connection and then says nothing would keep a probe waiting for
    // ever; the person is told after a bound instead.
    this.probe = (e) => withTimeout(probe(e), timeoutMs, () => new ProbeTimeout(e.name, timeoutMs));
    this.now = deps.now ?? Date.now;
  }

  async plan(command: PlanCommand, request: CommandRequest): Promise<CommandReply | undefined> {
    const { service, gateway, access } = this.deps;
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
    const source = this.endpoint(command.source);
    const target = this.endpoint(command.target);
    const options: PlanOptions = withDefaults({
      strategy: command.strategy,
      onNonEmptyTarget: command.onNonEmptyTarget,
      // db=all is the default: a database in the endpoints' URLs may select instead.
      ...planDatabases(source, target, command.dbs === 'all' ? undefined : command.dbs),
      match: command.match,
      bigKeyThresholdBytes: this.deps.config.copy?.bigKeyThresholdBytes,
    });
    let prepared: PreparedPlan;
    try {
      prepared = await preparePlan({ source, target, options, hooks: this.deps.config.hooks }, (e) =>
        this.probe(e),
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
          root = await this.postCard(
            request.channelId,
            migrationCard(planCardView(plan, { ...names, id: newId })),
          );
          this.deps.cards.remember(newId, root);
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
    void this.deps.cards.refresh(id);
    const who = command.buddyId ? mention(command.buddyId) : 'an approver';
    return message(`Migration ${id} planned`, [
      section(
        `:white_check_mark: Migration \`${id}\` is planned (${escapeMrkdwn(plan.strategy ?? '')}) and posted in this ` +
          `channel. ${who} approves each gated step in its thread.`,
      ),
    ]);
  }

  private async postCard(channelId: string, card: SlackMessage): Promise<MessageRef> {
    try {
      return await this.deps.gateway.postRoot(channelId, card);
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

  async status(command: { id?: string }, request: CommandRequest): Promise<CommandReply | undefined> {
    let m: Migration | undefined;
    if (command.id) {
      m = await this.migration(command.id, USAGE.status);
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
    const m = await this.migration(command.id, USAGE.verify);
    await this.assertInvolvedOrRequester(m, request.userId, 'verify');
    const source = this.endpoint(m.source);
    const target = this.endpoint(m.target);
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
    const m = await this.migration(command.id, USAGE.audit);
    const lines = await this.deps.service.audit.exportJsonLines(m.id);
    const count = lines.split('\n').filter(Boolean).length;
    const root = rootOf(m);
    const channel = root?.channel ?? request.channelId;
    const filename = `migration-${m.id}-audit.jsonl`;
    try {
      const file = {
        filename,
        title: `Audit trail of migration ${m.id}`,
        content: lines || '\n',
        initial_comment: `Audit trail of migration \`${m.id}\` (${count} events, JSON lines), asked for by <@${request.userId}>.`,
      };
      await this.deps.client.filesUploadV2(
        root ? { ...file, channel_id: channel, thread_ts: root.ts } : { ...file, channel_id: channel },
      );
      return message(`Uploaded the audit trail of ${m.id}`, [
        section(
          `:page_facing_up: Uploaded \`${filename}\` (${count} events) ${root ? 'in the migration thread' : 'here'}.`,
        ),
      ]);
    } catch (err) {
      this.deps.logger.warn(
        { migrationId: m.id, error: errorMessage(err) },
        'audit upload failed; posting it',
      );
    }
    const chunks = chunkLines(lines, AUDIT_CHUNK_CHARS);
    const shown = chunks.slice(0, AUDIT_MAX_MESSAGES);
    const more = chunks.length - shown.length;
    if (root) {
      for (const [i, chunk] of shown.entries()) {
        await this.deps.gateway.postThreadReply(
          root,
          message(`Audit trail of ${m.id} (${i + 1}/${shown.length})`, [section(codeBlock(chunk))]),
        );
      }
      return message(`Posted the audit trail of ${m.id}`, [
        section(
          `:page_facing_up: The file upload failed, so the audit trail (${count} events) is posted in the ` +
            `migration thread${more > 0 ? `; the last ${more} parts did not fit (\`migration-buddy audit ${m.id} --json\` has all)` : ''}.`,
        ),
      ]);
    }
    const first = shown.slice(0, 8);
    return message(`Audit trail of ${m.id}`, [
      section(`:page_facing_up: Audit trail of \`${escapeMrkdwn(m.id)}\` (${count} events):`),
      ...first.map((c) => section(codeBlock(c))),
      ...(chunks.length > first.length
        ? [contextBlock(`Only the first part is shown; \`migration-buddy audit ${m.id} --json\` has all.`)]
        : []),
    ]);
  }

  async unlock(command: { endpoint: string }, request: CommandRequest): Promise<CommandReply | undefined> {
    const endpoint = this.endpoint(command.endpoint, USAGE.unlock);
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

  // ---- helpers -------------------------------------------------------------------------------

  private endpoint(name: string, usage = USAGE.plan): Endpoint {
    const found = this.deps.config.resolvedEndpoints.get(name);
    if (found) return found;
    // The listener refuses unknown names with their role; this is the backstop (config changed).
    const refusal = unknownEndpointRefusal(this.deps.config, []);
    throw new SlackRefusal(refusal.problem, refusal.next, usage);
  }

  private async migration(id: string, usage?: string): Promise<Migration> {
    const m = await this.deps.service.get(id);
    if (!m) {
      throw noSuchMigration(usage);
    }
    return m;
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

/** The id is not repeated: only an id that exists names something. */
function noSuchMigration(usage?: string): SlackRefusal {
  return new SlackRefusal(
    'There is no migration with that id.',
    '`/migrate list` shows the recent ones.',
    usage,
  );
}

class ProbeTimeout extends Error {
  constructor(name: string, ms: number) {
    super(
      `${name} did not answer within ${Math.round(ms / 1000)} s (it accepts connections but says nothing)`,
    );
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
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

/** Refusal reasons from the runbook are lower-case clauses; shown as a sentence. */
export function sentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const s = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

function chunkLines(text: string, max: number): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    if (!raw) continue;
    const line = raw.length > max ? `${raw.slice(0, max - 20)} …(cut)` : raw;
    if (current && current.length + 1 + line.length > max) {
      chunks.push(current);
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current) chunks.push(current);
  return chunks;
}

function codeBlock(text: string): string {
  return `\`\`\`${escapeMrkdwn(scrub(text)).replace(/```/g, "'''")}\`\`\``;
}
