// `/migrate audit <id>`: the audit trail as a JSON-lines file in the migration's thread (or here).
// When the upload fails it is posted as messages instead: in the thread, up to a bound, or shown
// to the person who asked; what does not fit points at `migration-buddy audit --json`.
import type { webApi } from '@slack/bolt';
import type { Migration } from '../../../runbook/model.js';
import type { MigrationService } from '../../../runbook/service.js';
import { errorMessage } from '../../../util/errors.js';
import type { Logger } from '../../../util/logger.js';
import { scrub } from '../../../util/secrets.js';
import { contextBlock, message, section } from '../../blocks/message.js';
import { escapeMrkdwn } from '../../blocks/text.js';
import type { SlackGateway } from '../../gateway.js';
import { rootOf } from '../../migration-thread/message-store.js';
import type { CommandReply } from '../reply.js';
import type { CommandRequest } from './migrate-subcommands.js';

export interface AuditDeps {
  service: Pick<MigrationService, 'audit'>;
  gateway: Pick<SlackGateway, 'postThreadReply'>;
  client: Pick<webApi.WebClient, 'filesUploadV2'>;
  logger: Logger;
}

/** Lines of the audit trail per message when the file upload fails (each well under 3000 chars). */
const AUDIT_CHUNK_CHARS = 2700;
const AUDIT_MAX_MESSAGES = 20;

export async function shareAuditTrail(
  deps: AuditDeps,
  m: Migration,
  request: CommandRequest,
): Promise<CommandReply> {
  const lines = await deps.service.audit.exportJsonLines(m.id);
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
    await deps.client.filesUploadV2(
      root ? { ...file, channel_id: channel, thread_ts: root.ts } : { ...file, channel_id: channel },
    );
    return message(`Uploaded the audit trail of ${m.id}`, [
      section(
        `:page_facing_up: Uploaded \`${filename}\` (${count} events) ${root ? 'in the migration thread' : 'here'}.`,
      ),
    ]);
  } catch (err) {
    deps.logger.warn({ migrationId: m.id, error: errorMessage(err) }, 'audit upload failed; posting it');
  }
  const chunks = chunkLines(lines, AUDIT_CHUNK_CHARS);
  const shown = chunks.slice(0, AUDIT_MAX_MESSAGES);
  const more = chunks.length - shown.length;
  if (root) {
    for (const [i, chunk] of shown.entries()) {
      await deps.gateway.postThreadReply(
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
