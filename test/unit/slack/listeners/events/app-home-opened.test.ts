// App Home: called directly with a stand-in gateway (the Bolt starter's test style), first on its
// own (help and endpoints), then with the migration lists read from a fake runbook.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import type { Migration } from '../../../../../src/runbook/model.js';
import { appHomeOpened } from '../../../../../src/slack/listeners/events/app-home-opened.js';
import { VIEW_MAX_BLOCKS, validateBlocks } from '../../../../fake-slack/block-kit.js';
import { TEST_ENDPOINT_PASSWORD, testConfig } from '../../../../fake-slack/stub-deps.js';
import { memoryMigration } from '../../../runbook/fixtures.js';
import { testLogger } from '../helpers.js';

function setup(migrations?: { list: (o: { limit: number }) => Promise<Migration[]> }) {
  const { logger, lines } = testLogger();
  const publishHome = mock.fn(async (_user: string, _view: unknown) => ({ ok: true }) as const);
  const deps = {
    config: testConfig(),
    gateway: { publishHome } as never,
    logger,
    ...(migrations ? { migrations } : {}),
  };
  return { deps, publishHome, lines };
}

const opened = (tab: string) => ({ event: { type: 'app_home_opened', user: 'U0ALICE', tab } }) as never;

test('the home tab gets help and the configured endpoints, by name and redacted URL', async () => {
  const { deps, publishHome } = setup();
  await appHomeOpened(deps)(opened('home'));
  assert.equal(publishHome.mock.callCount(), 1);
  const [user, view] = publishHome.mock.calls[0]!.arguments as [string, { type: string; blocks: unknown[] }];
  assert.equal(user, 'U0ALICE');
  assert.equal(view.type, 'home');
  assert.deepEqual(validateBlocks(view.blocks, VIEW_MAX_BLOCKS, '/view/blocks'), []);
  const shown = JSON.stringify(view);
  assert.match(shown, /\/migrate plan/);
  assert.match(shown, /old-cache/);
  assert.match(shown, /new-cache/);
  assert.ok(!shown.includes(TEST_ENDPOINT_PASSWORD));
});

test('the messages tab is not the home: nothing is published', async () => {
  const { deps, publishHome } = setup();
  await appHomeOpened(deps)(opened('messages'));
  assert.equal(publishHome.mock.callCount(), 0);
});

test('the migration lists come from the runbook: active ones, then recently ended', async () => {
  const active = memoryMigration({ id: 'mig-running' });
  const ended: Migration = { ...memoryMigration({ id: 'mig-done' }), status: 'succeeded' };
  const list = mock.fn(async (_o: { limit: number }) => [active, ended]);
  const { deps, publishHome } = setup({ list });
  await appHomeOpened(deps)(opened('home'));
  assert.deepEqual(list.mock.calls[0]!.arguments, [{ limit: 30 }]);
  const view = publishHome.mock.calls[0]!.arguments[1] as { blocks: unknown[] };
  assert.deepEqual(validateBlocks(view.blocks, VIEW_MAX_BLOCKS, '/view/blocks'), []);
  const shown = JSON.stringify(view);
  assert.ok(shown.indexOf('Active migrations') < shown.indexOf('mig-running'));
  assert.ok(shown.indexOf('mig-running') < shown.indexOf('Recently ended'));
  assert.ok(shown.indexOf('Recently ended') < shown.indexOf('mig-done'));
});

test('when the runbook cannot be read, the home still shows help and endpoints', async () => {
  const { deps, publishHome, lines } = setup({
    list: async () => {
      throw new Error('control Redis down');
    },
  });
  await appHomeOpened(deps)(opened('home'));
  assert.equal(publishHome.mock.callCount(), 1);
  assert.match(JSON.stringify(publishHome.mock.calls[0]!.arguments[1]), /old-cache/);
  assert.match(lines.join(''), /could not build the App Home extras/);
});
