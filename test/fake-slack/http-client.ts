// Plays Slack's side of the HTTP receiver in end-to-end tests: signed slash commands, button clicks,
// dialog submissions and events, each with its own response_url on the fake server. Every response
// body the app sent back is kept, so tests can scan everything the app ever said.
import { newTriggerId } from './payloads.js';
import type { FakeSlack, SlackOutput } from './server.js';
import { responseUrlId } from './server.js';
import { blockActionsBody, postSigned, slashCommandBody, viewSubmissionBody } from './signed-request.js';

export interface SentRequest {
  status: number;
  /** What the app answered in the HTTP response (a slash command's immediate reply), if anything. */
  body: Record<string, unknown> | undefined;
  /** The response_url given with the request, as an id to match SlackOutput.responseUrlId. */
  responseUrlId: string;
  triggerId?: string;
}

export class SlackHttpClient {
  /** Every HTTP response body the app sent back. */
  readonly responses: string[] = [];

  constructor(
    private readonly fake: FakeSlack,
    private readonly url: string,
    private readonly signingSecret: string,
  ) {}

  async command(text: string, user: string, channel = 'C0MIGRATE'): Promise<SentRequest> {
    const responseUrl = this.fake.newResponseUrl();
    const body = slashCommandBody({ text, userId: user, channelId: channel, responseUrl });
    return this.send(body, responseUrl);
  }

  async click(input: {
    actionId: string;
    value: string;
    user: string;
    channel: string;
    messageTs: string;
    threadTs?: string;
  }): Promise<SentRequest> {
    const responseUrl = this.fake.newResponseUrl();
    const triggerId = newTriggerId();
    const payload: Parameters<typeof blockActionsBody>[0] = {
      actionId: input.actionId,
      value: input.value,
      userId: input.user,
      channelId: input.channel,
      messageTs: input.messageTs,
      responseUrl,
      triggerId,
    };
    if (input.threadTs) payload.threadTs = input.threadTs;
    const sent = await this.send(blockActionsBody(payload), responseUrl);
    return { ...sent, triggerId };
  }

  async submitView(input: Parameters<typeof viewSubmissionBody>[0]): Promise<SentRequest> {
    return this.send(viewSubmissionBody(input), '');
  }

  async event(event: Record<string, unknown>): Promise<SentRequest> {
    const body = JSON.stringify({
      token: 'legacy-verification-token',
      team_id: 'T0FAKE',
      api_app_id: 'A0FAKEAPP',
      event: { event_ts: `${Date.now() / 1000}`, ...event },
      type: 'event_callback',
      event_id: `Ev${Date.now()}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{ team_id: 'T0FAKE', user_id: 'U0BOT', is_bot: true }],
    });
    const res = await postSigned(this.url, body, {
      signingSecret: this.signingSecret,
      contentType: 'application/json',
    });
    const text = await res.text();
    this.responses.push(text);
    return { status: res.status, body: undefined, responseUrlId: '' };
  }

  /** The reply posted to a request's response_url (the next one not yet taken). */
  reply(sent: SentRequest, timeoutMs = 15_000): Promise<SlackOutput> {
    return this.fake.nextOutput(
      (o) => o.kind === 'response' && o.responseUrlId === sent.responseUrlId,
      timeoutMs,
    );
  }

  /** The immediate reply (in the HTTP response) or else the first response_url reply. */
  async answer(
    sent: SentRequest,
    timeoutMs = 15_000,
  ): Promise<{ text: string; raw: Record<string, unknown> }> {
    if (sent.body && typeof sent.body.text === 'string' && !/^Planning /.test(sent.body.text)) {
      return { text: sent.body.text, raw: sent.body };
    }
    const out = await this.reply(sent, timeoutMs);
    return { text: String(out.text ?? ''), raw: out.raw };
  }

  private async send(body: string, responseUrl: string): Promise<SentRequest> {
    const res = await postSigned(this.url, body, { signingSecret: this.signingSecret });
    const text = await res.text();
    this.responses.push(text);
    let parsed: Record<string, unknown> | undefined;
    if (text) {
      try {
        parsed = JSON.parse(text) as Record<string, unknown>;
      } catch {
        parsed = { text };
      }
    }
    return { status: res.status, body: parsed, responseUrlId: responseUrl ? responseUrlId(responseUrl) : '' };
  }
}
