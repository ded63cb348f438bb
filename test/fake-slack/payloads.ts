// Payloads shaped like the ones Slack sends, for slash commands and button clicks. The same payload
// goes into a Socket Mode envelope or a signed HTTP request.

export const FAKE_TEAM = { id: 'T0FAKE', domain: 'fake-team' };
export const FAKE_APP_ID = 'A0FAKEAPP';

export interface SlashCommandInput {
  text: string;
  command?: string;
  userId?: string;
  userName?: string;
  channelId?: string;
  channelName?: string;
  responseUrl?: string;
  triggerId?: string;
}

export function slashCommandPayload(input: SlashCommandInput): Record<string, string> {
  return {
    token: 'legacy-verification-token',
    team_id: FAKE_TEAM.id,
    team_domain: FAKE_TEAM.domain,
    channel_id: input.channelId ?? 'C0MIGRATE',
    channel_name: input.channelName ?? 'migrations',
    user_id: input.userId ?? 'U0REQUESTER',
    user_name: input.userName ?? 'requester',
    command: input.command ?? '/migrate',
    text: input.text,
    api_app_id: FAKE_APP_ID,
    is_enterprise_install: 'false',
    response_url: input.responseUrl ?? 'http://127.0.0.1:9/nowhere',
    trigger_id: input.triggerId ?? newTriggerId(),
  };
}

/** Like Slack's: unique, and (here) starting with the time it was issued so the fake can expire it. */
export function newTriggerId(): string {
  triggerCounter += 1;
  return `${Date.now()}.${triggerCounter}.trigger`;
}
let triggerCounter = 0;

export interface BlockActionInput {
  actionId: string;
  value?: string;
  blockId?: string;
  userId?: string;
  channelId?: string;
  messageTs?: string;
  responseUrl?: string;
  buttonText?: string;
  /** Set when the clicked message is a reply in a thread. */
  threadTs?: string;
  triggerId?: string;
}

export function blockActionPayload(input: BlockActionInput): Record<string, unknown> {
  const channelId = input.channelId ?? 'C0MIGRATE';
  const messageTs = input.messageTs ?? '1700000000.000100';
  return {
    type: 'block_actions',
    user: { id: input.userId ?? 'U0BUDDY', username: 'buddy', name: 'buddy', team_id: FAKE_TEAM.id },
    api_app_id: FAKE_APP_ID,
    token: 'legacy-verification-token',
    container: {
      type: 'message',
      message_ts: messageTs,
      channel_id: channelId,
      is_ephemeral: false,
      ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
    },
    trigger_id: input.triggerId ?? newTriggerId(),
    team: FAKE_TEAM,
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channelId, name: 'migrations' },
    message: {
      type: 'message',
      ts: messageTs,
      text: 'Approval needed',
      user: 'U0BOT',
      bot_id: 'B0BOT',
      ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
    },
    state: { values: {} },
    response_url: input.responseUrl ?? 'http://127.0.0.1:9/nowhere',
    actions: [
      {
        type: 'button',
        action_id: input.actionId,
        block_id: input.blockId ?? 'mb_approval',
        text: { type: 'plain_text', text: input.buttonText ?? 'Approve', emoji: true },
        value: input.value,
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
}

export interface ViewSubmissionInput {
  callbackId: string;
  privateMetadata?: string;
  /** state.values: block_id -> action_id -> value of a plain_text_input. */
  values?: Record<string, Record<string, string | null>>;
  userId?: string;
}

export function viewSubmissionPayload(input: ViewSubmissionInput): Record<string, unknown> {
  const values: Record<string, Record<string, { type: string; value: string | null }>> = {};
  for (const [block, actions] of Object.entries(input.values ?? {})) {
    values[block] = {};
    for (const [action, value] of Object.entries(actions)) {
      values[block]![action] = { type: 'plain_text_input', value };
    }
  }
  return {
    type: 'view_submission',
    team: FAKE_TEAM,
    user: { id: input.userId ?? 'U0BUDDY', username: 'buddy', name: 'buddy', team_id: FAKE_TEAM.id },
    api_app_id: FAKE_APP_ID,
    token: 'legacy-verification-token',
    trigger_id: newTriggerId(),
    view: {
      id: 'V0FAKEVIEW',
      team_id: FAKE_TEAM.id,
      type: 'modal',
      callback_id: input.callbackId,
      private_metadata: input.privateMetadata ?? '',
      hash: '1700000000.fakehash',
      state: { values },
      blocks: [],
      title: { type: 'plain_text', text: 'Dialog' },
      app_id: FAKE_APP_ID,
      bot_id: 'B0BOT',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}
