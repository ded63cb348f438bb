// What a Slack request body must look like before Bolt sees it. Bolt dereferences fields without
// checking them (a JSON `null` body, or `payload=null`, throws inside its HTTP receiver where
// nothing catches it, and the process dies); other shapes make it answer 500, or never answer.
// This module reads the body the way Bolt does (same content types, same order of "what kind of
// request is this") and accepts only the kinds this app handles, with every field Bolt or our
// listeners read present and of the right type. Pure: used by the HTTP guard and Socket Mode.
import { parse as parseQuery } from 'node:querystring';

export type PayloadKind =
  | 'ssl_check'
  | 'url_verification'
  | 'event'
  | 'command'
  | 'block_actions'
  | 'view_submission';

export type ShapeResult =
  | { ok: true; kind: PayloadKind; body: Record<string, unknown> }
  | { ok: false; problem: string };

type Body = Record<string, unknown>;

const FORM = 'application/x-www-form-urlencoded';

/**
 * Parses a raw HTTP body like Bolt's HTTPReceiver (form bodies carry interactive payloads as JSON
 * in `payload`; anything else is JSON) and checks its shape.
 */
export function parseHttpBody(rawBody: string, contentType: string | undefined): ShapeResult {
  let body: unknown;
  if (contentType === FORM) {
    const form = parseQuery(rawBody);
    // Slack's unsigned SSL check is a form post; only this form of it skips the signature.
    if (form.ssl_check !== undefined) {
      return form.ssl_check === '1'
        ? { ok: true, kind: 'ssl_check', body: { ssl_check: '1' } }
        : { ok: false, problem: 'ssl_check must be 1' };
    }
    if ('payload' in form) {
      if (typeof form.payload !== 'string') return { ok: false, problem: 'payload is given more than once' };
      const parsed = parseJson(form.payload);
      if (!parsed.ok) return { ok: false, problem: `payload is not JSON (${parsed.problem})` };
      body = parsed.value;
      return checkInteractive(body);
    }
    body = { ...form };
  } else {
    const parsed = parseJson(rawBody);
    if (!parsed.ok) return { ok: false, problem: `the body is not JSON (${parsed.problem})` };
    body = parsed.value;
  }
  return checkPayload(body);
}

/** The shape check for a body already parsed (Socket Mode envelopes carry it as JSON). */
export function checkPayload(body: unknown): ShapeResult {
  if (!isRecord(body)) return { ok: false, problem: `the body is ${describe(body)}, not an object` };
  // Bolt decides the kind in this order (helpers.getTypeAndConversation); so do we.
  if (body.event !== undefined) return checkEvent(body);
  if (body.command !== undefined) return checkCommand(body);
  if (body.type === 'url_verification') {
    return typeof body.challenge === 'string'
      ? { ok: true, kind: 'url_verification', body }
      : { ok: false, problem: 'url_verification without a challenge' };
  }
  return checkInteractive(body);
}

function checkInteractive(body: unknown): ShapeResult {
  if (!isRecord(body)) return { ok: false, problem: `the payload is ${describe(body)}, not an object` };
  if (body.event !== undefined || body.command !== undefined || body.name !== undefined) {
    return { ok: false, problem: 'an interactive payload with event, command or name fields' };
  }
  if (body.type === 'block_actions') return checkBlockActions(body);
  if (body.type === 'view_submission') return checkViewSubmission(body);
  return {
    ok: false,
    problem:
      typeof body.type === 'string'
        ? 'a payload type this app does not handle'
        : 'a payload without a type, command or event',
  };
}

function checkEvent(body: Body): ShapeResult {
  const problems: string[] = [];
  const event = body.event;
  if (!isRecord(event)) return { ok: false, problem: 'event is not an object' };
  if (body.type !== 'event_callback') problems.push('type must be event_callback');
  if (typeof event.type !== 'string') problems.push('event.type must be a string');
  // Bolt reads these to find the channel and user: each must be absent, a string or an object.
  for (const field of ['user', 'channel'] as const) {
    const v = event[field];
    if (v !== undefined && typeof v !== 'string' && !isRecord(v))
      problems.push(`event.${field} has the wrong type`);
  }
  for (const field of ['item', 'subteam', 'assistant_thread', 'message', 'previous_message'] as const) {
    if (event[field] !== undefined && !isRecord(event[field]))
      problems.push(`event.${field} must be an object`);
  }
  if (body.authorizations !== undefined) {
    if (!Array.isArray(body.authorizations) || !body.authorizations.every(isRecord)) {
      problems.push('authorizations must be a list of objects');
    }
  }
  optionalString(body, 'team_id', problems);
  optionalString(body, 'enterprise_id', problems);
  return result('event', body, problems);
}

function checkCommand(body: Body): ShapeResult {
  const problems: string[] = [];
  // Form fields given twice arrive as lists; every field read must be one string.
  for (const field of ['command', 'text', 'user_id', 'channel_id', 'response_url', 'trigger_id']) {
    if (typeof body[field] !== 'string') problems.push(`${field} must be one string`);
  }
  for (const field of ['team_id', 'enterprise_id', 'is_enterprise_install'])
    optionalString(body, field, problems);
  if (body.actions !== undefined || body.name !== undefined)
    problems.push('a command with interactive fields');
  return result('command', body, problems);
}

function checkBlockActions(body: Body): ShapeResult {
  const problems = interactiveCommon(body);
  const actions = body.actions;
  if (!Array.isArray(actions) || actions.length === 0) {
    problems.push('actions must be a non-empty list');
  } else {
    const first = actions[0];
    if (!isRecord(first)) problems.push('actions[0] must be an object');
    else {
      if (typeof first.action_id !== 'string') problems.push('actions[0].action_id must be a string');
      if (typeof first.type !== 'string') problems.push('actions[0].type must be a string');
      optionalString(first, 'value', problems, 'actions[0].');
      optionalString(first, 'block_id', problems, 'actions[0].');
    }
  }
  if (typeof body.response_url !== 'string') problems.push('response_url must be a string');
  if (typeof body.trigger_id !== 'string') problems.push('trigger_id must be a string');
  for (const field of ['container', 'message', 'channel'] as const) {
    if (body[field] !== undefined && body[field] !== null && !isRecord(body[field])) {
      problems.push(`${field} must be an object`);
    }
  }
  if (isRecord(body.channel)) optionalString(body.channel, 'id', problems, 'channel.');
  if (isRecord(body.container)) {
    for (const f of ['channel_id', 'message_ts', 'thread_ts'])
      optionalString(body.container, f, problems, 'container.');
  }
  if (isRecord(body.message)) {
    for (const f of ['ts', 'thread_ts']) optionalString(body.message, f, problems, 'message.');
  }
  return result('block_actions', body, problems);
}

function checkViewSubmission(body: Body): ShapeResult {
  const problems = interactiveCommon(body);
  const view = body.view;
  if (!isRecord(view)) {
    problems.push('view must be an object');
  } else {
    if (typeof view.callback_id !== 'string') problems.push('view.callback_id must be a string');
    optionalString(view, 'private_metadata', problems, 'view.');
    optionalString(view, 'app_installed_team_id', problems, 'view.');
    const state = view.state;
    if (!isRecord(state) || !isRecord(state.values)) problems.push('view.state.values must be an object');
    else if (!Object.values(state.values).every(isRecord))
      problems.push('view.state.values holds a non-object');
  }
  if (body.response_urls !== undefined) {
    const urls = body.response_urls;
    if (!Array.isArray(urls) || !urls.every((u) => isRecord(u) && typeof u.response_url === 'string')) {
      problems.push('response_urls must be a list of {response_url}');
    }
  }
  return result('view_submission', body, problems);
}

/** Fields Bolt reads from every interactive payload (the user, team and enterprise). */
function interactiveCommon(body: Body): string[] {
  const problems: string[] = [];
  if (!isRecord(body.user) || typeof body.user.id !== 'string') problems.push('user.id must be a string');
  for (const field of ['team', 'enterprise'] as const) {
    if (body[field] !== undefined && body[field] !== null && !isRecord(body[field])) {
      problems.push(`${field} must be an object or null`);
    }
  }
  // Slack functions' interactivity: not used by this app, and Bolt would take a token from it.
  if (body.function_data !== undefined || body.bot_access_token !== undefined) {
    problems.push('function payloads are not handled');
  }
  return problems;
}

function result(kind: PayloadKind, body: Body, problems: string[]): ShapeResult {
  if (problems.length === 0) return { ok: true, kind, body };
  return { ok: false, problem: `${kindName[kind]}: ${problems.slice(0, 3).join('; ')}` };
}

const kindName: Record<PayloadKind, string> = {
  ssl_check: 'ssl_check',
  url_verification: 'url_verification',
  event: 'event',
  command: 'slash command',
  block_actions: 'button click',
  view_submission: 'dialog submission',
};

function optionalString(obj: Body, field: string, problems: string[], prefix = ''): void {
  if (obj[field] !== undefined && typeof obj[field] !== 'string')
    problems.push(`${prefix}${field} must be a string`);
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, problem: 'it does not parse' };
  }
}

export function isRecord(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}
