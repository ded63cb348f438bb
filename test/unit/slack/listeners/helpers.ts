// What Bolt hands a listener, as stand-ins (the Bolt starter's tests/helpers.ts): stubbed ack,
// respond and client that record their calls, and a logger whose lines the test can read.
import { mock } from 'node:test';
import { createLogger, type Logger } from '../../../../src/util/logger.js';

export function testLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level: 'debug' }, (line) => lines.push(line)), lines };
}

/** The JSON of a recorded call's first argument. */
export const bodyOf = (call: { arguments: unknown[] }) => JSON.stringify(call.arguments[0]);

export function slashCommand(text: string, channel = 'C0MIGRATE', command = '/migrate') {
  const ack = mock.fn(async (_body?: unknown) => {});
  const respond = mock.fn(async (_body: unknown) => {});
  const args = {
    command: { command, text, user_id: 'U0ALICE', channel_id: channel, team_id: 'T1' },
    ack,
    respond,
  };
  return { args: args as never, ack, respond };
}

export interface ClickOptions {
  actionId?: string;
  channel?: string;
  messageTs?: string;
  /** The thread the clicked message is in (none: a message outside a thread). */
  threadTs?: string;
  /** What client.views.open does (the reject dialog). */
  opensView?: (args: unknown) => Promise<unknown>;
}

export function buttonClick(value: string | undefined, o: ClickOptions = {}) {
  const channel = o.channel ?? 'C0MIGRATE';
  const messageTs = o.messageTs ?? '1700000000.000100';
  const ack = mock.fn(async () => {});
  const respond = mock.fn(async (_body: unknown) => {});
  const views = { open: mock.fn(o.opensView ?? (async () => ({ ok: true }))) };
  const args = {
    ack,
    respond,
    client: { views },
    action: { type: 'button', action_id: o.actionId ?? 'mb_step_approve', value },
    body: {
      user: { id: 'U0BUDDY' },
      trigger_id: '123.456.trigger',
      channel: { id: channel },
      message: o.threadTs ? { ts: messageTs, thread_ts: o.threadTs } : { ts: messageTs },
      container: { channel_id: channel, message_ts: messageTs },
    },
  };
  return { args: args as never, ack, respond, views };
}
