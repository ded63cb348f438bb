// The /migrate listener called directly with stand-in ack/respond (the Bolt starter's test style):
// first with recording handlers (what is answered in the ack, what is routed where, how failures
// read), then with the real subcommand handlers on a fake runbook, probe and gateway (which
// service calls each subcommand makes, and what the person reads).
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import type { LockHolder } from '../../../../../src/runbook/locks.js';
import type { CreateInput } from '../../../../../src/runbook/service.js';
import { migrateCommand } from '../../../../../src/slack/listeners/commands/migrate.js';
import { MigrateHandlers } from '../../../../../src/slack/listeners/commands/migrate-handlers.js';
import { rootMeta } from '../../../../../src/slack/migration-thread/message-store.js';
import { UserError } from '../../../../../src/util/errors.js';
import { recordingHandlers, testConfig } from '../../../../fake-slack/stub-deps.js';
import { source as sourceProbe, target as targetProbe } from '../../../planner/fixtures.js';
import { memoryMigration, SETTINGS } from '../../../runbook/fixtures.js';
import { bodyOf, slashCommand, testLogger } from '../helpers.js';

function setup(overrides: { channels?: string[] } = {}) {
  const { logger, lines } = testLogger();
  const handlers = recordingHandlers();
  const config = testConfig();
  if (overrides.channels) config.slack = { channels: overrides.channels };
  const deps = { config, commands: handlers.commands, decisions: handlers.decisions, logger };
  return { deps, handlers, lines };
}

const commandArgs = slashCommand;
const body = bodyOf;

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

// ---- the real subcommand handlers, on a fake runbook ------------------------------------------

/** Endpoints on IP addresses: the plan's server locks resolve them without DNS. */
const IP_CONFIG_YAML = `
endpoints:
  old-cache:
    url: redis://10.0.0.5:6379
  new-cache:
    url: redis://10.0.0.6:6380
slack:
  channels: []
`;

const THREAD = { channel: 'C0MIGRATE', ts: '1700000000.000100' };

/** The MigrationService calls the handlers make, answered from memory and recorded. */
function fakeRunbook() {
  const inChannel = memoryMigration({ id: 'mig-1', meta: rootMeta(THREAD) });
  const elsewhere = memoryMigration({ id: 'mig-0' });
  const created: CreateInput[] = [];
  const service = {
    settings: SETTINGS,
    now: () => Date.parse('2026-01-01T00:00:00.000Z'),
    list: mock.fn(async (_o: { limit: number }) => [elsewhere, inChannel]),
    get: mock.fn(async (id: string) => [inChannel, elsewhere].find((m) => m.id === id)),
    progress: mock.fn(async (_id: string) => ({})),
    abort: mock.fn(async (id: string, _user: string, _reason: string) =>
      id === 'mig-1'
        ? { ok: true as const, migration: inChannel, message: 'migration mig-1 aborted', value: undefined }
        : { ok: false as const, code: 'not_found' as const, reason: `no migration ${id}` },
    ),
    unlock: mock.fn(async (_server: string, _user: string) => ({
      ok: true as const,
      message: 'cleared 1 stale lock',
      cleared: ['x'],
    })),
    audit: {
      exportJsonLines: mock.fn(async (_id: string) => '{"type":"migration_created"}\n{"type":"note"}\n'),
    },
    checkPlanPolicy: mock.fn(async (..._a: unknown[]) => null),
    lockHolders: mock.fn(async (_units: readonly string[]): Promise<LockHolder[]> => []),
    isStaleLock: () => false,
    create: mock.fn(async (input: CreateInput) => {
      created.push(input);
      return memoryMigration({ id: input.id!, meta: input.meta ?? {} });
    }),
    start: mock.fn(async (id: string, _user: string) => ({
      ok: true as const,
      migration: memoryMigration({ id }),
      message: 'started',
      value: undefined,
    })),
  };
  return { service, created, inChannel };
}

function realSetup(
  probe = async (e: { name: string }) => (e.name === 'old-cache' ? sourceProbe() : targetProbe()),
) {
  const { logger, lines } = testLogger();
  const config = testConfig(IP_CONFIG_YAML);
  const { service, created } = fakeRunbook();
  const gateway = {
    postRoot: mock.fn(async (_channel: string, _card: unknown) => THREAD),
    update: mock.fn(async (..._a: unknown[]) => ({ ok: true })),
    postThreadReply: mock.fn(async (..._a: unknown[]) => ({ ok: true })),
  };
  const cards = {
    remember: mock.fn((..._a: unknown[]) => {}),
    refresh: mock.fn(async (_id: string) => ({ ok: true })),
  };
  const access = {
    restricted: false,
    assertMayRequest: mock.fn(async (_user: string) => {}),
    mayRequest: async () => true,
  };
  const client = { filesUploadV2: mock.fn(async (_file: Record<string, unknown>) => ({ ok: true })) };
  const commands = new MigrateHandlers({
    config,
    service: service as never,
    gateway: gateway as never,
    client: client as never,
    access: access as never,
    cards: cards as never,
    logger,
    probe: probe as never,
    probeTimeoutMs: 200,
  });
  const run = async (text: string) => {
    const c = commandArgs(text);
    await migrateCommand({ config, commands, logger })(c.args);
    return c;
  };
  return { run, service, created, gateway, cards, access, client, lines };
}

test('plan: probes, posts the card, creates the migration with its thread and locks, starts it', async () => {
  const { run, service, created, gateway, cards, access } = realSetup();
  const c = await run('plan old-cache new-cache buddy=<@U0BUDDY|bob>');
  assert.match(body(c.ack.mock.calls[0]!), /Planning old-cache → new-cache/);
  assert.deepEqual(access.assertMayRequest.mock.calls[0]!.arguments, ['U0ALICE']);
  assert.deepEqual(service.checkPlanPolicy.mock.calls[0]!.arguments.slice(0, 2), ['U0ALICE', 'U0BUDDY']);
  assert.equal(gateway.postRoot.mock.callCount(), 1);
  assert.equal(gateway.postRoot.mock.calls[0]!.arguments[0], 'C0MIGRATE');
  assert.equal(created.length, 1);
  const input = created[0]!;
  assert.equal(input.source, 'old-cache');
  assert.equal(input.target, 'new-cache');
  assert.equal(input.requester, 'U0ALICE');
  assert.equal(input.buddy, 'U0BUDDY');
  assert.deepEqual(input.meta, rootMeta(THREAD), 'created knowing its thread');
  assert.ok(
    input.locks?.some((l) => l.includes('10.0.0.5:6379')),
    'the source server is locked',
  );
  assert.ok(
    input.locks?.some((l) => l.includes('10.0.0.6:6380')),
    'the target server is locked',
  );
  assert.match(JSON.stringify(gateway.postRoot.mock.calls[0]!.arguments[1]), new RegExp(input.id!));
  assert.deepEqual(cards.remember.mock.calls[0]!.arguments, [input.id, THREAD]);
  assert.deepEqual(service.start.mock.calls[0]!.arguments, [input.id, 'U0ALICE']);
  const reply = body(c.respond.mock.calls[0]!);
  assert.ok(reply.includes(`Migration \`${input.id}\` is planned`), reply);
  assert.match(reply, /<@U0BUDDY> approves each gated step/);
});

test('plan: a blocked plan is shown to the requester only; nothing is posted or created', async () => {
  const { run, service, gateway } = realSetup(async (e) =>
    e.name === 'old-cache' ? sourceProbe() : targetProbe({ dbs: { 0: 5 } }),
  );
  const c = await run('plan old-cache new-cache');
  assert.equal(gateway.postRoot.mock.callCount(), 0);
  assert.equal(service.create.mock.callCount(), 0);
  assert.equal(service.start.mock.callCount(), 0);
  assert.match(body(c.respond.mock.calls[0]!), /"response_type":"ephemeral"/);
  assert.match(body(c.respond.mock.calls[0]!), /blocked|Fix the blockers/i);
});

test('plan: a probe that fails or never answers is refused with the server named and no secret', async () => {
  const failing = realSetup(async () => {
    throw new Error('WRONGPASS for redis://app:hunter2-pw-99@10.0.0.5:6379');
  });
  const f = await failing.run('plan old-cache new-cache');
  const shown = body(f.respond.mock.calls[0]!);
  assert.match(shown, /Could not probe old-cache/);
  assert.match(shown, /Check that the server is up and reachable/);
  assert.ok(!shown.includes('hunter2-pw-99'));
  assert.equal(failing.service.create.mock.callCount(), 0);

  const silent = realSetup(() => new Promise(() => {}));
  const s = await silent.run('plan old-cache new-cache');
  assert.match(body(s.respond.mock.calls[0]!), /old-cache did not answer within/);
});

test('plan: being your own buddy is refused before anything is probed', async () => {
  let probed = 0;
  const { run, service } = realSetup(async () => {
    probed += 1;
    return sourceProbe();
  });
  const c = await run('plan old-cache new-cache buddy=<@U0ALICE>');
  assert.match(body(c.respond.mock.calls[0]!), /cannot be your own buddy/);
  assert.equal(probed, 0);
  assert.equal(service.create.mock.callCount(), 0);
});

test('status: without an id, the latest migration planned in this channel, with its thread', async () => {
  const { run, service } = realSetup();
  const c = await run('status');
  assert.deepEqual(service.list.mock.calls[0]!.arguments, [{ limit: 50 }]);
  const shown = body(c.respond.mock.calls[0]!);
  assert.match(shown, /mig-1/);
  assert.match(shown, /Its thread is in <#C0MIGRATE>/);
  const other = await run('status nope-1');
  assert.deepEqual(service.get.mock.calls.at(-1)!.arguments, ['nope-1']);
  assert.match(body(other.respond.mock.calls[0]!), /There is no migration with that id/);
  assert.match(body(other.respond.mock.calls[0]!), /\/migrate status \[id\]/);
});

test('list: the recent migrations', async () => {
  const { run, service } = realSetup();
  const c = await run('list');
  assert.deepEqual(service.list.mock.calls[0]!.arguments, [{ limit: 20 }]);
  assert.match(body(c.respond.mock.calls[0]!), /mig-0/);
  assert.match(body(c.respond.mock.calls[0]!), /mig-1/);
});

test('abort: through the runbook as the person who asked; an unknown id is not repeated', async () => {
  const { run, service } = realSetup();
  const c = await run('abort mig-1');
  assert.deepEqual(service.abort.mock.calls[0]!.arguments, ['mig-1', 'U0ALICE', 'aborted from Slack']);
  assert.match(body(c.respond.mock.calls[0]!), /Migration mig-1 aborted\./);
  const gone = await run('abort mig-404');
  const shown = body(gone.respond.mock.calls[0]!);
  assert.match(shown, /There is no migration with that id/);
  assert.ok(!shown.includes('mig-404'));
});

test('audit: uploaded into the thread; when the upload fails, posted there in parts', async () => {
  const { run, service, client, gateway } = realSetup();
  const c = await run('audit mig-1');
  assert.deepEqual(service.audit.exportJsonLines.mock.calls[0]!.arguments, ['mig-1']);
  const file = client.filesUploadV2.mock.calls[0]!.arguments[0];
  assert.equal(file.channel_id, THREAD.channel);
  assert.equal(file.thread_ts, THREAD.ts);
  assert.equal(file.filename, 'migration-mig-1-audit.jsonl');
  assert.match(body(c.respond.mock.calls[0]!), /Uploaded .*\(2 events\) in the migration thread/);

  client.filesUploadV2.mock.mockImplementation(async () => {
    throw new Error('missing_scope');
  });
  const posted = await run('audit mig-1');
  assert.equal(gateway.postThreadReply.mock.callCount(), 1);
  assert.deepEqual(gateway.postThreadReply.mock.calls[0]!.arguments[0], THREAD);
  assert.match(body(posted.respond.mock.calls[0]!), /The file upload failed/);
});

test('unlock: the server the endpoint names, as the person who asked', async () => {
  const { run, service } = realSetup();
  const c = await run('unlock old-cache');
  assert.deepEqual(service.unlock.mock.calls[0]!.arguments, ['10.0.0.5:6379', 'U0ALICE']);
  assert.match(body(c.respond.mock.calls[0]!), /old-cache \(10\.0\.0\.5:6379\): Cleared 1 stale lock\./);
});
