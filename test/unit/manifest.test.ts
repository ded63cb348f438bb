import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
  for (const scope of ['commands', 'chat:write', 'usergroups:read', 'users:read']) {
    assert.ok(m.oauth_config.scopes.bot.includes(scope), scope);
  }
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
