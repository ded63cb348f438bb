import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPayload, parseHttpBody } from '../../../../src/slack/edge/payload-shape.js';
import {
  blockActionPayload,
  slashCommandPayload,
  viewSubmissionPayload,
} from '../../../fake-slack/payloads.js';

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const payload = (p: unknown) => form({ payload: JSON.stringify(p) });

test('what Slack sends is accepted, with its kind', () => {
  const cases: [string, string | undefined, string][] = [
    [form(slashCommandPayload({ text: 'help' })), FORM, 'command'],
    [payload(blockActionPayload({ actionId: 'mb_step_approve', value: 'v1|a|b|c' })), FORM, 'block_actions'],
    [payload(viewSubmissionPayload({ callbackId: 'mb_reject_step' })), FORM, 'view_submission'],
    ['ssl_check=1&token=x', FORM, 'ssl_check'],
    ['{"type":"url_verification","challenge":"c"}', JSON_TYPE, 'url_verification'],
    [
      JSON.stringify({
        type: 'event_callback',
        team_id: 'T1',
        event: { type: 'app_home_opened', user: 'U1' },
      }),
      JSON_TYPE,
      'event',
    ],
  ];
  for (const [body, type, kind] of cases) {
    const r = parseHttpBody(body, type);
    assert.ok(r.ok, `${kind}: ${!r.ok ? r.problem : ''}`);
    assert.equal(r.kind, kind);
  }
});

test('anything else is refused with the field at fault, never its content', () => {
  const secret = 'Fz-pw-9731';
  const cases: [string, string | undefined, RegExp][] = [
    ['null', JSON_TYPE, /the body is null/],
    ['[1]', JSON_TYPE, /a list/],
    [`"${secret}"`, JSON_TYPE, /a string/],
    [`{"type":"${secret}`, JSON_TYPE, /not JSON/],
    ['payload=null', FORM, /the payload is null/],
    [`payload=${secret}`, FORM, /payload is not JSON/],
    ['payload=1&payload=2', FORM, /more than once/],
    [payload({ type: secret }), FORM, /a payload type this app does not handle/],
    [payload({ ...blockActionPayload({ actionId: 'x' }), user: secret }), FORM, /user\.id must be a string/],
    [
      payload({ ...blockActionPayload({ actionId: 'x' }), actions: [{ action_id: 1, type: 'button' }] }),
      FORM,
      /action_id/,
    ],
    [
      form({ ...slashCommandPayload({ text: 'x' }), user_id: '' }).replace('user_id=', 'user_idx='),
      FORM,
      /user_id must be one string/,
    ],
    [
      JSON.stringify({ type: 'event_callback', event: { type: 'x', item: secret } }),
      JSON_TYPE,
      /event\.item must be an object/,
    ],
    [JSON.stringify({ type: 'x', event: { type: 'x' } }), JSON_TYPE, /type must be event_callback/],
  ];
  for (const [body, type, expected] of cases) {
    const r = parseHttpBody(body, type);
    assert.ok(!r.ok, body);
    assert.match(r.problem, expected, body);
    assert.ok(!r.problem.includes(secret), `${body}: the problem repeats the content`);
  }
});

test('the shape check alone (Socket Mode) refuses the same bodies', () => {
  for (const body of [
    null,
    undefined,
    1,
    'x',
    [],
    {},
    { type: 'block_actions' },
    { command: ['/migrate'] },
  ]) {
    assert.equal(checkPayload(body).ok, false, JSON.stringify(body));
  }
});

test('only a form-encoded ssl_check counts as one (the guard answers it without a signature)', () => {
  assert.equal(parseHttpBody('ssl_check=1', FORM).ok, true);
  assert.equal(parseHttpBody('{"ssl_check":"1"}', JSON_TYPE).ok, false);
  assert.equal(parseHttpBody('ssl_check=0', FORM).ok, false);
});
