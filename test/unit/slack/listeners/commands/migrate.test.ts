// Listener callbacks called directly with stand-in ack/respond (the Bolt starter's test style).
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { encodeStepRef } from '../../../../../src/slack/blocks/approval.js';
import { stepDecision } from '../../../../../src/slack/listeners/actions/step-decision.js';
import { migrateCommand } from '../../../../../src/slack/listeners/commands/migrate.js';
import { UserError } from '../../../../../src/util/errors.js';
import { createLogger } from '../../../../../src/util/logger.js';
import { recordingHandlers, testConfig } from '../../../../fake-slack/stub-deps.js';

function setup(overrides: { channels?: string[] } = {}) {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug' }, (line) => lines.push(line));
  const handlers = recordingHandlers();
  const config = testConfig();
  if (overrides.channels) config.slack = { channels: overrides.channels };
  const deps = { config, commands: handlers.commands, decisions: handlers.decisions, logger };
  return { deps, handlers, lines };
}

function commandArgs(text: string, channel = 'C0MIGRATE') {
  const ack = mock.fn(async (_body?: unknown) => {});
  const respond = mock.fn(async (_body: unknown) => {});
  const args = {
    command: { text, user_id: 'U0ALICE', channel_id: channel, team_id: 'T1' },
    ack,
    respond,
  };
  return { args: args as never, ack, respond };
}

const body = (call: { arguments: unknown[] }) => JSON.stringify(call.arguments[0]);

test('help is answered in the ack itself; nothing is routed', async () => {
  const { deps, handlers } = setup();
  const { args, ack, respond } = commandArgs('help');
  await migrateCommand(deps)(args);
  assert.equal(ack.mock.callCount(), 1);
  assert.match(body(ack.mock.calls[0]!), /"response_type":"ephemeral"/);
  assert.match(body(ack.mock.calls[0]!), /\/migrate plan &lt;source&gt;|\/migrate plan <source>/);
  assert.equal(respond.mock.callCount(), 0);
  assert.equal(handlers.received.length, 0);
});

test('the ack goes out before a slow handler finishes, and the reply follows', async () => {
  const { deps } = setup();
  let release!: () => void;
  deps.commands.list = async () => {
    await new Promise<void>((r) => {
      release = r;
    });
    return { text: 'the list', blocks: [] };
  };
  const { args, ack, respond } = commandArgs('list');
  const done = migrateCommand(deps)(args);
  await tick();
  assert.equal(ack.mock.callCount(), 1, 'acked while the handler is still running');
  assert.equal(respond.mock.callCount(), 0);
  release();
  await done;
  assert.equal(respond.mock.callCount(), 1);
  assert.match(body(respond.mock.calls[0]!), /the list/);
});

test('plan is acked with a progress note and routed with the parsed command and the requester', async () => {
  const { deps, handlers } = setup();
  const { args, ack, respond } = commandArgs('plan old-cache new-cache buddy=<@U0BUDDY|bob>');
  await migrateCommand(deps)(args);
  assert.match(body(ack.mock.calls[0]!), /Planning old-cache → new-cache/);
  assert.deepEqual(handlers.received[0], {
    kind: 'plan',
    command: {
      kind: 'plan',
      source: 'old-cache',
      target: 'new-cache',
      strategy: 'auto',
      buddyId: 'U0BUDDY',
      dbs: 'all',
      onNonEmptyTarget: 'refuse',
    },
    request: { userId: 'U0ALICE', channelId: 'C0MIGRATE', teamId: 'T1' },
  });
  assert.match(body(respond.mock.calls[0]!), /plan handled/);
});

test('handler failures: a UserError is shown as is, anything else is logged with a reference', async () => {
  const { deps, lines } = setup();
  deps.commands.abort = async () => {
    throw new UserError('Migration mig-1 is already finished.');
  };
  deps.commands.verify = async () => {
    throw new Error('ECONNREFUSED redis://u:internal-detail@10.1.1.1');
  };
  const a = commandArgs('abort mig-1');
  await migrateCommand(deps)(a.args);
  assert.match(body(a.respond.mock.calls[0]!), /already finished/);

  const v = commandArgs('verify mig-1');
  await migrateCommand(deps)(v.args);
  const shown = body(v.respond.mock.calls[0]!);
  assert.match(shown, /Something went wrong/);
  const ref = /ref ([0-9a-f]{8})/.exec(shown)?.[1];
  assert.ok(ref);
  assert.ok(!shown.includes('internal-detail'));
  assert.match(lines.join(''), new RegExp(`"ref":"${ref}"`));
});

test('parse errors are acked with the problem and the usage; the text is never logged', async () => {
  const { deps, lines, handlers } = setup();
  const { args, ack } = commandArgs('plan old-cache redis://x:typed-secret-77@h:6379');
  await migrateCommand(deps)(args);
  const shown = body(ack.mock.calls[0]!);
  assert.match(shown, /connection string/);
  assert.ok(!shown.includes('typed-secret-77'));
  assert.ok(!lines.join('').includes('typed-secret-77'));
  assert.equal(handlers.received.length, 0);
});

test('channels outside slack.channels are refused (help still works)', async () => {
  const { deps, handlers } = setup({ channels: ['C0ALLOWED'] });
  const refused = commandArgs('list', 'C0OTHER');
  await migrateCommand(deps)(refused.args);
  assert.match(body(refused.ack.mock.calls[0]!), /not enabled in this channel/);
  assert.match(body(refused.ack.mock.calls[0]!), /<#C0ALLOWED>/);
  assert.equal(handlers.received.length, 0);
  const help = commandArgs('help', 'C0OTHER');
  await migrateCommand(deps)(help.args);
  assert.match(body(help.ack.mock.calls[0]!), /migration-buddy/);
  const allowed = commandArgs('list', 'C0ALLOWED');
  await migrateCommand(deps)(allowed.args);
  assert.equal(handlers.received.length, 1);
});

test('a failing ack does not throw out of the listener', async () => {
  const { deps, handlers } = setup();
  const { args, ack } = commandArgs('list');
  ack.mock.mockImplementation(async () => {
    throw new Error('socket closed');
  });
  await migrateCommand(deps)(args);
  assert.equal(handlers.received.length, 0, 'not routed when the ack failed');
});

function actionArgs(value: string | undefined) {
  const ack = mock.fn(async () => {});
  const respond = mock.fn(async (_body: unknown) => {});
  const args = {
    ack,
    respond,
    action: { type: 'button', action_id: 'mb_step_approve', value },
    body: {
      user: { id: 'U0BUDDY' },
      channel: { id: 'C0MIGRATE' },
      message: { ts: '1700000000.000100' },
      container: { channel_id: 'C0MIGRATE', message_ts: '1700000000.000100' },
    },
  };
  return { args: args as never, ack, respond };
}

test('step decisions: acked, forwarded with the clicker and the message; bad values refused', async () => {
  const { deps, handlers } = setup();
  const value = encodeStepRef({ migrationId: 'mig-1', stepId: '3-verify', stepHash: 'abcdef0123' });
  const ok = actionArgs(value);
  await stepDecision('reject', deps)(ok.args);
  assert.equal(ok.ack.mock.callCount(), 1);
  assert.deepEqual(handlers.received[0], {
    kind: 'reject',
    request: {
      migrationId: 'mig-1',
      stepId: '3-verify',
      stepHash: 'abcdef0123',
      userId: 'U0BUDDY',
      channelId: 'C0MIGRATE',
      messageTs: '1700000000.000100',
    },
  });
  assert.match(body(ok.respond.mock.calls[0]!), /reject recorded/);

  const bad = actionArgs('{"migration":"mig-1","approved":true}');
  await stepDecision('approve', deps)(bad.args);
  assert.equal(bad.ack.mock.callCount(), 1);
  assert.equal(handlers.received.length, 1, 'not forwarded');
  assert.match(body(bad.respond.mock.calls[0]!), /does not belong to a step/);

  deps.decisions.approve = async () => {
    throw new UserError('You requested this migration, so someone else has to approve it.');
  };
  const self = actionArgs(value);
  await stepDecision('approve', deps)(self.args);
  assert.match(body(self.respond.mock.calls[0]!), /someone else has to approve/);
});
