// A fake Slack Web API + Socket Mode endpoint on loopback, in the shape of Teleport's fake_slack:
// it records every call, answers the methods this app uses like Slack would (including Block Kit
// limit errors and 429s on demand), and lets tests wait for "the next message matching X".
// Point a WebClient at it with `slackApiUrl: fake.apiUrl`.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MESSAGE_MAX_BLOCKS, MESSAGE_MAX_TEXT, VIEW_MAX_BLOCKS, validateBlocks } from './block-kit.js';
import {
  type BlockActionInput,
  blockActionPayload,
  type SlashCommandInput,
  slashCommandPayload,
} from './payloads.js';
import { acceptWebSocket, type WsConnection } from './websocket.js';

export const FAKE_BOT_TOKEN = 'xoxb-fake-bot-token-0000';
export const FAKE_APP_TOKEN = 'xapp-1-fake-app-token-0000';
export const FAKE_BOT_USER_ID = 'U0BOT';

export interface FakeSlackOptions {
  botToken?: string;
  appToken?: string;
  users?: Record<string, { name: string; realName?: string; isBot?: boolean; deleted?: boolean }>;
  usergroups?: Record<string, string[]>;
  /** Delay before answering, per call (to shake out ordering bugs). */
  latencyMs?: (method: string, params: Record<string, unknown>) => number;
}

export interface RecordedCall {
  method: string;
  params: Record<string, unknown>;
  status: number;
  ok: boolean;
  error?: string;
  /** Slack-style validation messages when a call was refused. */
  errors?: string[];
  /** For response_url posts: which URL (see responseUrlId). */
  responseUrlId?: string;
  at: number;
}

/** Everything that would be visible to someone in Slack. */
export interface SlackOutput {
  kind: 'post' | 'update' | 'ephemeral' | 'response' | 'home' | 'file' | 'modal';
  channel?: string;
  ts?: string;
  threadTs?: string;
  user?: string;
  /** For kind 'response': which response_url it was posted to (see responseUrlId). */
  responseUrlId?: string;
  text?: string;
  blocks?: unknown[];
  /** Raw params (response_url bodies, views) for anything else a test wants to check. */
  raw: Record<string, unknown>;
}

export interface EnvelopeResult {
  envelopeId: string;
  acked: boolean;
  /** What the app sent back with the ack (a slash command's immediate reply). */
  ackPayload?: Record<string, unknown>;
}

interface RateLimitRule {
  method: string;
  remaining: number;
  retryAfterSec: number;
  match?: (params: Record<string, unknown>) => boolean;
}

export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  readonly outputs: SlackOutput[] = [];
  /** Channel messages by ts, with their current content (after updates). */
  readonly messages = new Map<
    string,
    { channel: string; ts: string; threadTs?: string; text?: string; blocks?: unknown[] }
  >();
  readonly uploads = new Map<
    string,
    { filename: string; bytes: number; completed: boolean; content?: string }
  >();
  readonly acks = new Map<string, Record<string, unknown>>();
  /** Modals opened with views.open, by the trigger_id they used (each trigger works once). */
  readonly modals = new Map<string, Record<string, unknown>>();
  private readonly consumed = new Set<SlackOutput>();
  private readonly changes = new EventEmitter();
  private readonly rateLimits: RateLimitRule[] = [];
  private readonly failures: { method: string; remaining: number; error: string }[] = [];
  private readonly sockets = new Set<WsConnection>();
  private readonly responseUses = new Map<string, number>();
  private tsCounter = 0;

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    private readonly options: Required<Pick<FakeSlackOptions, 'botToken' | 'appToken'>> & FakeSlackOptions,
  ) {
    this.changes.setMaxListeners(0);
  }

  static async start(options: FakeSlackOptions = {}): Promise<FakeSlack> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const fake = new FakeSlack(server, `http://127.0.0.1:${port}`, {
      botToken: FAKE_BOT_TOKEN,
      appToken: FAKE_APP_TOKEN,
      ...options,
    });
    server.on('request', (req, res) => {
      fake.handle(req, res).catch((err) => {
        res.writeHead(500).end(String(err));
      });
    });
    server.on('upgrade', (req, socket) => fake.upgrade(req, socket));
    return fake;
  }

  /** Web API base URL, with the trailing slash WebClient expects. */
  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  /** The next N calls of `method` (matching `match`, if given) get HTTP 429 with Retry-After. */
  rateLimit(
    method: string,
    count: number,
    retryAfterSec = 1,
    match?: (params: Record<string, unknown>) => boolean,
  ): void {
    const rule: RateLimitRule = { method, remaining: count, retryAfterSec };
    if (match) rule.match = match;
    this.rateLimits.push(rule);
  }

  /** The next N calls of `method` answer `{ ok: false, error }` (e.g. internal_error, channel_not_found). */
  failNext(method: string, count: number, error: string): void {
    this.failures.push({ method, remaining: count, error });
  }

  /** A fresh response_url for a slash command or action payload (usable 5 times, like Slack's). */
  newResponseUrl(): string {
    return `${this.baseUrl}/response/${randomUUID()}`;
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Resolves with the first output matching `predicate` not returned by an earlier call. */
  nextOutput(predicate: (o: SlackOutput) => boolean = () => true, timeoutMs = 5000): Promise<SlackOutput> {
    return this.waitFor(
      () => {
        const found = this.outputs.find((o) => !this.consumed.has(o) && predicate(o));
        if (found) this.consumed.add(found);
        return found;
      },
      timeoutMs,
      'an output matching the predicate',
    );
  }

  /** Resolves once `probe` returns something other than undefined (re-checked on every change). */
  waitFor<T>(probe: () => T | undefined, timeoutMs = 5000, what = 'a condition'): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value === undefined) return false;
        cleanup();
        resolve(value);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake Slack: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.changes.off('change', check);
      };
      this.changes.on('change', check);
      check();
    });
  }

  // --- Socket Mode ------------------------------------------------------------------------------

  get socketConnections(): number {
    return this.sockets.size;
  }

  waitForSocket(timeoutMs = 5000): Promise<void> {
    return this.waitFor(
      () => (this.sockets.size > 0 ? true : undefined),
      timeoutMs,
      'a Socket Mode connection',
    ).then(() => undefined);
  }

  /** Sends a slash command envelope and reports whether the app acked it within `ackTimeoutMs` (Slack: 3 s). */
  deliverSlashCommand(input: SlashCommandInput, ackTimeoutMs = 3000): Promise<EnvelopeResult> {
    const payload = slashCommandPayload({ responseUrl: this.newResponseUrl(), ...input });
    return this.deliver('slash_commands', payload, true, ackTimeoutMs);
  }

  deliverBlockAction(input: BlockActionInput, ackTimeoutMs = 3000): Promise<EnvelopeResult> {
    const payload = blockActionPayload({ responseUrl: this.newResponseUrl(), ...input });
    return this.deliver('interactive', payload, false, ackTimeoutMs);
  }

  /** Sends an Events API envelope (e.g. app_home_opened); Bolt acks these itself. */
  deliverEvent(event: Record<string, unknown>, ackTimeoutMs = 3000): Promise<EnvelopeResult> {
    const payload = {
      token: 'legacy-verification-token',
      team_id: 'T0FAKE',
      api_app_id: 'A0FAKEAPP',
      event: { event_ts: `${Date.now() / 1000}`, ...event },
      type: 'event_callback',
      event_id: `Ev${randomUUID().slice(0, 8).toUpperCase()}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: 'T0FAKE', user_id: FAKE_BOT_USER_ID, is_bot: true }],
    };
    return this.deliver('events_api', payload, false, ackTimeoutMs);
  }

  async deliver(
    type: string,
    payload: Record<string, unknown>,
    acceptsResponsePayload: boolean,
    ackTimeoutMs: number,
  ): Promise<EnvelopeResult> {
    const socket = [...this.sockets][0];
    if (!socket) throw new Error('fake Slack: no Socket Mode connection to deliver to');
    const envelopeId = randomUUID();
    socket.sendText(
      JSON.stringify({
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: acceptsResponsePayload,
        retry_attempt: 0,
        retry_reason: '',
      }),
    );
    try {
      const ackPayload = await this.waitFor(() => this.acks.get(envelopeId), ackTimeoutMs, 'an ack');
      return { envelopeId, acked: true, ackPayload };
    } catch {
      return { envelopeId, acked: false };
    }
  }

  /**
   * Sends any text as a Socket Mode message (malformed envelopes included); with an envelope id,
   * reports whether the app acked it in time.
   */
  async deliverRaw(
    text: string,
    envelopeId?: string,
    ackTimeoutMs = 3000,
  ): Promise<EnvelopeResult | undefined> {
    const socket = [...this.sockets][0];
    if (!socket) throw new Error('fake Slack: no Socket Mode connection to deliver to');
    socket.sendText(text);
    if (!envelopeId) return undefined;
    try {
      const ackPayload = await this.waitFor(() => this.acks.get(envelopeId), ackTimeoutMs, 'an ack');
      return { envelopeId, acked: true, ackPayload };
    } catch {
      return { envelopeId, acked: false };
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // --- HTTP -------------------------------------------------------------------------------------

  private upgrade(req: IncomingMessage, socket: import('node:stream').Duplex): void {
    if (!req.url?.startsWith('/link')) {
      socket.destroy();
      return;
    }
    const ws = acceptWebSocket(req, socket);
    if (!ws) return;
    this.sockets.add(ws);
    ws.on('message', (text: string) => {
      try {
        const msg = JSON.parse(text) as { envelope_id?: string; payload?: Record<string, unknown> };
        if (msg.envelope_id) this.acks.set(msg.envelope_id, msg.payload ?? {});
      } catch {
        // Not JSON: Slack would ignore it too.
      }
      this.changed();
    });
    ws.on('close', () => {
      this.sockets.delete(ws);
      this.changed();
    });
    ws.sendText(
      JSON.stringify({
        type: 'hello',
        num_connections: this.sockets.size,
        debug_info: { host: 'fake-slack', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: 'A0FAKEAPP' },
      }),
    );
    this.changed();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const raw = await readBody(req);
    const params = await parseParams(req.headers['content-type'] ?? '', raw);

    if (url.pathname.startsWith('/response/')) return this.handleResponseUrl(url.pathname, params, res);
    if (url.pathname.startsWith('/upload/')) {
      const upload = this.uploads.get(url.pathname.slice('/upload/'.length));
      if (!upload) return void res.writeHead(404).end('not found');
      upload.content = await uploadedText(req.headers['content-type'] ?? '', raw);
      upload.bytes = Buffer.byteLength(upload.content);
      this.record({
        method: 'upload',
        params: { file: upload.filename },
        status: 200,
        ok: true,
        at: Date.now(),
      });
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${raw.length}`);
    }
    if (!url.pathname.startsWith('/api/')) return void res.writeHead(404).end();
    const method = url.pathname.slice('/api/'.length);

    const latency = this.options.latencyMs?.(method, params) ?? 0;
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));

    const rule = this.rateLimits.find(
      (r) => r.method === method && r.remaining > 0 && (!r.match || r.match(params)),
    );
    if (rule) {
      rule.remaining -= 1;
      this.record({ method, params, status: 429, ok: false, error: 'ratelimited', at: Date.now() });
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(rule.retryAfterSec) });
      return void res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
    }

    const token = bearer(req) ?? (typeof params.token === 'string' ? params.token : undefined);
    const wanted = method === 'apps.connections.open' ? this.options.appToken : this.options.botToken;
    let body: Record<string, unknown>;
    if (!token) body = { ok: false, error: 'not_authed' };
    else if (token !== wanted) body = { ok: false, error: 'invalid_auth' };
    else body = this.injectedFailure(method) ?? this.route(method, params);

    const call: RecordedCall = { method, params, status: 200, ok: body.ok === true, at: Date.now() };
    if (typeof body.error === 'string') call.error = body.error;
    if (Array.isArray(body.errors)) call.errors = body.errors as string[];
    this.record(call);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private route(method: string, p: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://fake-team.slack.com/',
          team: 'Fake Team',
          user: 'migration-buddy',
          team_id: 'T0FAKE',
          user_id: FAKE_BOT_USER_ID,
          bot_id: 'B0BOT',
        };
      case 'apps.connections.open':
        return { ok: true, url: `${this.baseUrl.replace('http', 'ws')}/link/?ticket=${randomUUID()}` };
      case 'chat.postMessage': {
        const bad = this.checkMessage(p);
        if (bad) return bad;
        const ts = this.nextTs();
        const channel = String(p.channel);
        const msg = { channel, ts, ...textAndBlocks(p) } as {
          channel: string;
          ts: string;
          threadTs?: string;
          text?: string;
          blocks?: unknown[];
        };
        if (typeof p.thread_ts === 'string') msg.threadTs = p.thread_ts;
        this.messages.set(ts, msg);
        this.output({ kind: 'post', ...msg, raw: p });
        return {
          ok: true,
          channel,
          ts,
          message: { type: 'message', ts, text: msg.text, thread_ts: msg.threadTs },
        };
      }
      case 'chat.update': {
        const existing = typeof p.ts === 'string' ? this.messages.get(p.ts) : undefined;
        if (!existing || existing.channel !== p.channel) return { ok: false, error: 'message_not_found' };
        const bad = this.checkMessage(p);
        if (bad) return bad;
        Object.assign(existing, textAndBlocks(p));
        this.output({
          kind: 'update',
          channel: existing.channel,
          ts: existing.ts,
          ...textAndBlocks(p),
          raw: p,
        });
        return { ok: true, channel: existing.channel, ts: existing.ts, text: existing.text };
      }
      case 'chat.postEphemeral': {
        if (typeof p.user !== 'string' || !p.user) return { ok: false, error: 'user_not_in_channel' };
        const bad = this.checkMessage(p);
        if (bad) return bad;
        const out: SlackOutput = {
          kind: 'ephemeral',
          channel: String(p.channel),
          user: p.user,
          ...textAndBlocks(p),
          raw: p,
        };
        if (typeof p.thread_ts === 'string') out.threadTs = p.thread_ts;
        this.output(out);
        return { ok: true, message_ts: this.nextTs() };
      }
      case 'users.info': {
        const id = String(p.user ?? '');
        const u = this.options.users?.[id];
        if (!u) return { ok: false, error: 'user_not_found' };
        return {
          ok: true,
          user: {
            id,
            name: u.name,
            real_name: u.realName ?? u.name,
            is_bot: u.isBot ?? false,
            deleted: u.deleted ?? false,
            profile: { display_name: u.name, real_name: u.realName ?? u.name },
          },
        };
      }
      case 'usergroups.users.list': {
        const users = this.options.usergroups?.[String(p.usergroup ?? '')];
        return users ? { ok: true, users } : { ok: false, error: 'no_such_subteam' };
      }
      case 'views.publish': {
        const view = (p.view ?? {}) as { type?: string; blocks?: unknown };
        if (view.type !== 'home') return { ok: false, error: 'invalid_arguments' };
        const errors = validateBlocks(view.blocks, VIEW_MAX_BLOCKS, '/view/blocks');
        if (errors.length > 0) return { ok: false, error: 'invalid_arguments', errors, ...metadata(errors) };
        this.output({ kind: 'home', user: String(p.user_id), blocks: view.blocks as unknown[], raw: p });
        return { ok: true, view: { id: `V${this.nextTs().replace('.', '')}`, type: 'home' } };
      }
      case 'views.open': {
        const trigger = typeof p.trigger_id === 'string' ? p.trigger_id : '';
        if (!trigger) return { ok: false, error: 'invalid_arguments' };
        if (this.modals.has(trigger)) return { ok: false, error: 'exchanged_trigger_id' };
        // Slack's trigger ids last about 3 seconds; the payload helpers put the creation time first.
        const issued = Number(trigger.split('.')[0]);
        if (Number.isFinite(issued) && issued > 1e12 && Date.now() - issued > 3000) {
          return { ok: false, error: 'expired_trigger_id' };
        }
        const view = (p.view ?? {}) as Record<string, unknown>;
        const errors = validateModal(view);
        if (errors.length > 0) return { ok: false, error: 'invalid_arguments', errors, ...metadata(errors) };
        this.modals.set(trigger, view);
        this.output({ kind: 'modal', blocks: view.blocks as unknown[], raw: p });
        return { ok: true, view: { id: `V${this.nextTs().replace('.', '')}`, type: 'modal', ...view } };
      }
      case 'files.getUploadURLExternal': {
        if (typeof p.filename !== 'string' || !p.length) return { ok: false, error: 'invalid_arguments' };
        const id = `F${randomUUID().slice(0, 8).toUpperCase()}`;
        this.uploads.set(id, { filename: p.filename, bytes: 0, completed: false });
        return { ok: true, upload_url: `${this.baseUrl}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const files = (Array.isArray(p.files) ? p.files : []) as { id: string; title?: string }[];
        if (files.length === 0 || files.some((f) => !this.uploads.has(f.id))) {
          return { ok: false, error: 'invalid_arguments' };
        }
        for (const f of files) this.uploads.get(f.id)!.completed = true;
        const out: SlackOutput = { kind: 'file', raw: p };
        if (typeof p.channel_id === 'string') out.channel = p.channel_id;
        if (typeof p.thread_ts === 'string') out.threadTs = p.thread_ts;
        if (typeof p.initial_comment === 'string') out.text = p.initial_comment;
        this.output(out);
        return {
          ok: true,
          files: files.map((f) => ({ id: f.id, title: f.title ?? this.uploads.get(f.id)!.filename })),
        };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  private injectedFailure(method: string): Record<string, unknown> | undefined {
    const rule = this.failures.find((f) => f.method === method && f.remaining > 0);
    if (!rule) return undefined;
    rule.remaining -= 1;
    return { ok: false, error: rule.error };
  }

  /** Slack's answer to an oversize or malformed message, or undefined when it is fine. */
  private checkMessage(p: Record<string, unknown>): Record<string, unknown> | undefined {
    if (typeof p.channel !== 'string' || !p.channel) return { ok: false, error: 'channel_not_found' };
    const hasText = typeof p.text === 'string' && p.text.length > 0;
    if (!hasText && p.blocks === undefined) return { ok: false, error: 'no_text' };
    if (typeof p.text === 'string' && p.text.length > MESSAGE_MAX_TEXT)
      return { ok: false, error: 'msg_too_long' };
    if (p.blocks !== undefined) {
      const errors = validateBlocks(p.blocks, MESSAGE_MAX_BLOCKS);
      if (errors.length > 0) return { ok: false, error: 'invalid_blocks', errors, ...metadata(errors) };
    }
    return undefined;
  }

  private handleResponseUrl(path: string, p: Record<string, unknown>, res: ServerResponse): void {
    const id = path.slice('/response/'.length);
    const uses = (this.responseUses.get(id) ?? 0) + 1;
    this.responseUses.set(id, uses);
    const call: RecordedCall = {
      method: 'response_url',
      params: p,
      status: 200,
      ok: true,
      responseUrlId: id,
      at: Date.now(),
    };
    if (uses > 5) {
      Object.assign(call, { status: 404, ok: false, error: 'used_url' });
      this.record(call);
      return void res.writeHead(404).end('used_url');
    }
    const errors = p.blocks === undefined ? [] : validateBlocks(p.blocks, MESSAGE_MAX_BLOCKS);
    const noContent = p.delete_original !== true && !p.text && p.blocks === undefined;
    if (errors.length > 0 || noContent) {
      Object.assign(call, {
        status: 400,
        ok: false,
        error: noContent ? 'no_text' : 'invalid_blocks',
        errors,
      });
      this.record(call);
      return void res.writeHead(400).end(call.error);
    }
    this.record(call);
    this.output({ kind: 'response', responseUrlId: id, ...textAndBlocks(p), raw: p });
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  }

  private nextTs(): string {
    this.tsCounter += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(this.tsCounter).padStart(6, '0')}`;
  }

  private record(call: RecordedCall): void {
    this.calls.push(call);
    this.changed();
  }

  private output(o: SlackOutput): void {
    this.outputs.push(o);
    this.changed();
  }

  private changed(): void {
    this.changes.emit('change');
  }
}

/** The id part of a URL from newResponseUrl(), to match SlackOutput.responseUrlId. */
export function responseUrlId(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

export function startFakeSlack(options?: FakeSlackOptions): Promise<FakeSlack> {
  return FakeSlack.start(options);
}

function textAndBlocks(p: Record<string, unknown>): { text?: string; blocks?: unknown[] } {
  const out: { text?: string; blocks?: unknown[] } = {};
  if (typeof p.text === 'string') out.text = p.text;
  if (Array.isArray(p.blocks)) out.blocks = p.blocks;
  return out;
}

/** Modal checks (docs.slack.dev/reference/views/modal): title, submit, close <= 24, metadata <= 3000. */
function validateModal(view: Record<string, unknown>): string[] {
  const errors: string[] = [];
  if (view.type !== 'modal') errors.push('must be modal [json-pointer:/view/type]');
  for (const key of ['title', 'submit', 'close'] as const) {
    const t = view[key] as { type?: string; text?: string } | undefined;
    if (t === undefined && key !== 'title') continue;
    if (t?.type !== 'plain_text' || typeof t.text !== 'string' || !t.text.trim()) {
      errors.push(`must be a plain_text object [json-pointer:/view/${key}]`);
    } else if (t.text.length > 24) {
      errors.push(`must be less than 25 characters [json-pointer:/view/${key}/text]`);
    }
  }
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > 3000) {
    errors.push('must be less than 3001 characters [json-pointer:/view/private_metadata]');
  }
  if (typeof view.callback_id === 'string' && view.callback_id.length > 255) {
    errors.push('must be less than 256 characters [json-pointer:/view/callback_id]');
  }
  errors.push(...validateBlocks(view.blocks, VIEW_MAX_BLOCKS, '/view/blocks'));
  return errors;
}

function metadata(errors: string[]): Record<string, unknown> {
  return { response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } };
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice('Bearer '.length) : undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The file an upload URL received: the body itself, or its one file part when sent as a form. */
async function uploadedText(contentType: string, raw: Buffer): Promise<string> {
  if (!contentType.startsWith('multipart/form-data')) return raw.toString('utf8');
  const form = await new Response(new Uint8Array(raw), {
    headers: { 'content-type': contentType },
  }).formData();
  for (const value of form.values()) return typeof value === 'string' ? value : await value.text();
  return '';
}

/** Form, JSON or multipart bodies to a plain object; JSON-encoded fields (blocks, view, files) decoded. */
async function parseParams(contentType: string, raw: Buffer): Promise<Record<string, unknown>> {
  let params: Record<string, unknown> = {};
  if (raw.length === 0) return params;
  if (contentType.startsWith('application/json')) {
    try {
      params = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      return {};
    }
  } else if (contentType.startsWith('multipart/form-data')) {
    const form = await new Response(new Uint8Array(raw), {
      headers: { 'content-type': contentType },
    }).formData();
    for (const [k, v] of form.entries()) params[k] = typeof v === 'string' ? v : `<${v.size} bytes>`;
  } else {
    params = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
  }
  for (const key of ['blocks', 'view', 'files', 'attachments']) {
    const v = params[key];
    if (typeof v === 'string') {
      try {
        params[key] = JSON.parse(v);
      } catch {
        // Slack answers invalid JSON with invalid_blocks / invalid_arguments; validation catches it.
      }
    }
  }
  return params;
}
