import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkEnvelope } from '../../../../src/slack/edge/socket-guard.js';
import { blockActionPayload, slashCommandPayload } from '../../../fake-slack/payloads.js';

const env = (type: string, payload: unknown) => JSON.stringify({ envelope_id: 'e1', type, payload });

test('good envelopes and connection messages pass', () => {
  for (const text of [
    '{"type":"hello"}',
    '{"type":"disconnect","reason":"refresh_requested"}',
    env('slash_commands', slashCommandPayload({ text: 'help' })),
    env('interactive', blockActionPayload({ actionId: 'mb_step_approve', responseUrl: 'http://x' })),
    env('events_api', { type: 'event_callback', event: { type: 'app_home_opened', user: 'U1' } }),
  ]) {
    assert.deepEqual(checkEnvelope(text, false), { ok: true }, text);
  }
});

test('bad envelopes are refused; those with an id are acked, a slash command with an ephemeral error', () => {
  const cases: [string | Buffer, boolean, { ack?: boolean; ephemeral?: boolean }][] = [
    ['null', false, {}],
    ['{', false, {}],
    ['[]', false, {}],
    ['{"type":"events_api"}', false, {}],
    [Buffer.from('{}'), true, {}],
    [env('events_api', null), false, { ack: true }],
    [env('events_api', { type: 'event_callback', event: null }), false, { ack: true }],
    [env('slash_commands', null), false, { ack: true, ephemeral: true }],
    [env('slash_commands', { command: '/migrate' }), false, { ack: true, ephemeral: true }],
    [
      env('slash_commands', { type: 'event_callback', event: { type: 'x' } }),
      false,
      { ack: true, ephemeral: true },
    ],
    [env('interactive', { type: 'shortcut' }), false, { ack: true }],
    [env('interactive', slashCommandPayload({ text: 'x' })), false, { ack: true }],
    [env('something_new', {}), false, { ack: true }],
  ];
  for (const [text, binary, expect] of cases) {
    const v = checkEnvelope(text, binary);
    assert.equal(v.ok, false, String(text));
    if (v.ok) continue;
    assert.equal(v.envelopeId !== undefined, Boolean(expect.ack), `${String(text)}: acked`);
    assert.equal(
      v.ack?.response_type === 'ephemeral',
      Boolean(expect.ephemeral),
      `${String(text)}: ephemeral`,
    );
  }
});
