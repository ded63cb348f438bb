// Test stand-ins for what the runbook will provide to the Slack listeners: they record what they
// were asked and answer with a short reply, so tests can check routing without a runbook.
import { type Config, parseConfig } from '../../src/config/load.js';
import type { SlackMessage } from '../../src/slack/blocks/message.js';
import type {
  StepDecisionHandlers,
  StepDecisionRequest,
} from '../../src/slack/listeners/actions/step-decision-handlers.js';
import type {
  CommandRequest,
  MigrateCommandHandlers,
} from '../../src/slack/listeners/commands/migrate-subcommands.js';

export const TEST_ENDPOINT_PASSWORD = 'endpoint-pw-5ecret';

export const TEST_CONFIG_YAML = `
endpoints:
  old-cache:
    url: redis://app:${TEST_ENDPOINT_PASSWORD}@10.0.0.5:6379/0
    description: the self-hosted box
  new-cache:
    url: rediss://cache.example.net:6380
    cluster: false
slack:
  channels: []
`;

export function testConfig(yaml = TEST_CONFIG_YAML): Config {
  return parseConfig(yaml, 'test-config.yml', {});
}

export interface RecordedRequest {
  kind: string;
  command?: unknown;
  request: CommandRequest | StepDecisionRequest;
}

export function reply(text: string): SlackMessage {
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

/** Handlers that record every call and reply "<kind> handled". */
export function recordingHandlers(): {
  commands: MigrateCommandHandlers;
  decisions: StepDecisionHandlers;
  received: RecordedRequest[];
} {
  const received: RecordedRequest[] = [];
  const handler =
    (kind: string) =>
    async (command: unknown, request: CommandRequest): Promise<SlackMessage> => {
      received.push({ kind, command, request });
      return reply(`${kind} handled`);
    };
  const decision =
    (kind: string) =>
    async (request: StepDecisionRequest): Promise<SlackMessage> => {
      received.push({ kind, request });
      return reply(`${kind} recorded`);
    };
  return {
    commands: {
      plan: handler('plan'),
      status: handler('status'),
      list: handler('list'),
      verify: handler('verify'),
      abort: handler('abort'),
      audit: handler('audit'),
      unlock: handler('unlock'),
    },
    decisions: {
      approve: decision('approve'),
      reject: decision('reject'),
      confirm: decision('confirm'),
      retry: decision('retry'),
      requestAgain: decision('requestAgain'),
    },
    received,
  };
}
