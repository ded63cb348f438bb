import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';

// Checks the manifest against the rules of Slack's manifest schema that matter for this app.
test('manifest.yml is a valid Slack app manifest for /migrate with Socket Mode and interactivity', () => {
  const m = parse(readFileSync('manifest.yml', 'utf8'));
  const name: string = m.display_information.name;
  assert.ok(name.length >= 1 && name.length <= 35);
  assert.ok(m.features.bot_user.display_name.length <= 80);
  const commands = m.features.slash_commands;
  assert.equal(commands.length, 1);
  const cmd = commands[0];
  assert.equal(cmd.command, '/migrate');
  assert.ok(cmd.command.length >= 2 && cmd.command.length <= 32);
  assert.ok(cmd.description.length <= 2000 && cmd.usage_hint.length <= 1000);
  assert.equal(m.settings.interactivity.is_enabled, true);
  assert.equal(m.settings.socket_mode_enabled, true);
  assert.equal(m.features.app_home.home_tab_enabled, true);
  assert.ok(m.settings.event_subscriptions.bot_events.includes('app_home_opened'));
  const allowedTop = [
    '_metadata',
    'display_information',
    'features',
    'oauth_config',
    'settings',
    'functions',
    'workflows',
    'outgoing_domains',
    'types',
    'datastores',
  ];
  for (const key of Object.keys(m)) assert.ok(allowedTop.includes(key), `unexpected top-level key ${key}`);
});

// The bot scope each Web API method this app calls needs, from its page on docs.slack.dev
// (reference/methods/<method>, "Required scopes"). null: no scope (views.* act on what a user
// opened; auth.test needs only a token). filesUploadV2 is the SDK's helper for
// files.getUploadURLExternal + files.completeUploadExternal, both files:write.
const METHOD_SCOPES: Record<string, string | null> = {
  'auth.test': null,
  'chat.postMessage': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'chat.update': 'chat:write',
  'views.open': null,
  'views.publish': null,
  'usergroups.users.list': 'usergroups:read',
  filesUploadV2: 'files:write',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every Web API method called in src/slack (the only code that talks to Slack, see the layers test): `client.<family>[.<sub>].<method>(` and the SDK's helpers. */
function calledMethods(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sourceFiles('src/slack')) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bclient\.((?:[a-z]+\.){1,2}[a-zA-Z]+|filesUploadV2|apiCall)\(/g)) {
      const method = m[1]!;
      found.set(method, [...(found.get(method) ?? []), file]);
    }
  }
  return found;
}

test('the manifest asks for exactly the bot scopes of the Web API methods the code calls', () => {
  const methods = calledMethods();
  // What the scan must see (so a broken pattern cannot pass with nothing found).
  for (const known of ['chat.postMessage', 'chat.update', 'views.publish', 'usergroups.users.list']) {
    assert.ok(methods.has(known), `the scan found no call of ${known}`);
  }
  const unknown = [...methods.keys()].filter((k) => !(k in METHOD_SCOPES));
  assert.deepEqual(
    unknown,
    [],
    'a new Web API method: add it to METHOD_SCOPES with its scope from docs.slack.dev',
  );
  const m = parse(readFileSync('manifest.yml', 'utf8'));
  const needed = new Set(
    [...methods.keys()].map((k) => METHOD_SCOPES[k]).filter((s): s is string => typeof s === 'string'),
  );
  // A slash command needs the commands scope.
  if (m.features.slash_commands?.length) needed.add('commands');
  assert.deepEqual([...m.oauth_config.scopes.bot].sort(), [...needed].sort());
});
