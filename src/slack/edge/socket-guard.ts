// Socket Mode's counterpart of the HTTP guard. @slack/socket-mode reads each WebSocket message in
// an async listener that nothing awaits: a message that is JSON `null`, or an events_api envelope
// without an event, throws there and ends the process (an unhandled rejection). This guard takes
// the client's place as the one 'ws_message' listener, checks the envelope and its payload with the
// same shape rules as HTTP, and answers a bad one with an ack (so Slack does not send it again),
// an ephemeral error for a slash command; only good envelopes reach the client's own handling.
import type { SocketModeReceiver } from '@slack/bolt';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { checkPayload, isRecord, type PayloadKind } from './payload-shape.js';

type WsListener = (data: string | ArrayBuffer | Buffer, isBinary: boolean) => unknown;
type SocketClient = SocketModeReceiver['client'];
type AckSender = { send(envelopeId: string, body: Record<string, unknown>): Promise<void> };

/** Envelope types Slack sends with a payload, and the payload kinds each may carry. */
const PAYLOAD_KINDS: Record<string, readonly PayloadKind[]> = {
  events_api: ['event'],
  slash_commands: ['command'],
  interactive: ['block_actions', 'view_submission'],
};
/** Connection control messages, handled by the client itself. */
const CONTROL = new Set(['hello', 'disconnect']);

export const MALFORMED_COMMAND_ACK = {
  response_type: 'ephemeral',
  text: ':warning: That request could not be read, so nothing was done. Try the command again; if it keeps failing, tell whoever runs this app.',
} as const;

export type EnvelopeVerdict =
  | { ok: true }
  | { ok: false; problem: string; envelopeId?: string; ack?: Record<string, unknown> };

export function checkEnvelope(data: string | ArrayBuffer | Buffer, isBinary: boolean): EnvelopeVerdict {
  if (isBinary) return { ok: false, problem: 'a binary message' };
  const text = typeof data === 'string' ? data : Buffer.from(data as ArrayBuffer).toString('utf8');
  let envelope: unknown;
  try {
    envelope = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'a message that is not JSON' };
  }
  if (!isRecord(envelope)) return { ok: false, problem: 'a message that is not an object' };
  const type = envelope.type;
  if (typeof type === 'string' && CONTROL.has(type)) return { ok: true };
  const envelopeId = typeof envelope.envelope_id === 'string' ? envelope.envelope_id : undefined;
  if (!envelopeId) return { ok: false, problem: 'an envelope without an envelope_id' };
  const kinds = typeof type === 'string' ? PAYLOAD_KINDS[type] : undefined;
  if (!kinds) return { ok: false, problem: 'an envelope type this app does not handle', envelopeId, ack: {} };
  const shape = checkPayload(envelope.payload);
  const ack = type === 'slash_commands' ? { ...MALFORMED_COMMAND_ACK } : {};
  if (!shape.ok) return { ok: false, problem: shape.problem, envelopeId, ack };
  if (!kinds.includes(shape.kind)) {
    return { ok: false, problem: `a ${shape.kind} payload in a ${type} envelope`, envelopeId, ack };
  }
  return { ok: true };
}

export function guardSocketMode(client: SocketClient, log: Logger): void {
  const handlers = client.listeners('ws_message') as WsListener[];
  client.removeAllListeners('ws_message');
  client.on('ws_message', (data: string | ArrayBuffer | Buffer, isBinary: boolean) => {
    const verdict = checkEnvelope(data, isBinary);
    if (!verdict.ok) {
      // The problem names fields only, never their contents.
      log.warn({ problem: verdict.problem }, 'Socket Mode message refused: malformed');
      if (verdict.envelopeId) {
        // send() is private in the typings but is how the client's own ack() answers an envelope.
        (client as unknown as AckSender)
          .send(verdict.envelopeId, verdict.ack ?? {})
          .catch((err: unknown) =>
            log.warn({ error: errorMessage(err) }, 'could not ack a malformed envelope'),
          );
      }
      return;
    }
    for (const handle of handlers) {
      Promise.resolve()
        .then(() => handle.call(client, data, isBinary))
        .catch((err: unknown) => log.error({ error: errorMessage(err) }, 'Socket Mode message failed'));
    }
  });
}
