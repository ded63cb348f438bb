import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readSlackSettings, SettingsError } from '../../../src/slack/settings.js';
import { scrub } from '../../../src/util/secrets.js';

const exists = () => true;
const BOT = 'xoxb-1111-2222-settings-bot';
const APP = 'xapp-1-A1-settings-app';
const SIGNING = '8f742231b10e8888abcd99yyyzzz85a5';

test('Socket Mode when SLACK_APP_TOKEN is set; the signing secret is then optional', () => {
  const s = readSlackSettings(
    {
      SLACK_BOT_TOKEN: BOT,
      SLACK_APP_TOKEN: APP,
      CONTROL_REDIS_URL: 'redis://:ctl-pass-123@127.0.0.1:6390/2',
      MIGRATION_BUDDY_CONFIG: 'mb.yml',
      SLACK_API_URL: 'http://127.0.0.1:9999/api',
    },
    exists,
  );
  assert.equal(s.mode, 'socket');
  assert.equal(s.appToken, APP);
  assert.equal(s.signingSecret, undefined);
  assert.equal(s.configPath, 'mb.yml');
  assert.equal(s.slackApiUrl, 'http://127.0.0.1:9999/api/', 'trailing slash added for WebClient');
  assert.equal(s.controlRedisRedacted, 'redis://:***@127.0.0.1:6390/2');
  // Tokens and the control password are registered as secrets.
  assert.equal(scrub(`${BOT} ${APP} ctl-pass-123`), '*** *** ***');
});

test('HTTP mode without an app token, on PORT (default 3000)', () => {
  const env = { SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: SIGNING, CONTROL_REDIS_URL: 'redis://localhost' };
  const s = readSlackSettings(env, exists);
  assert.equal(s.mode, 'http');
  assert.equal(s.port, 3000);
  assert.equal(s.signingSecret, SIGNING);
  assert.equal(s.configPath, 'migration-buddy.yml');
  assert.equal(readSlackSettings({ ...env, PORT: '0' }, exists).port, 0);
  assert.equal(scrub(SIGNING), '***');
});

test('every problem is reported at once, one line each, never with a token value', () => {
  const badBot = 'xoxp-user-token-not-bot-777';
  const badApp = 'xoxb-not-an-app-token-888';
  let error: unknown;
  try {
    readSlackSettings(
      {
        SLACK_BOT_TOKEN: badBot,
        SLACK_APP_TOKEN: badApp,
        SLACK_SIGNING_SECRET: 'has space inside',
        PORT: 'eighty',
        CONTROL_REDIS_URL: 'http://user:ctl-secret-999@host',
        MIGRATION_BUDDY_CONFIG: '/nope/mb.yml',
        SLACK_API_URL: 'slack.com/api',
      },
      () => false,
    );
  } catch (err) {
    error = err;
  }
  assert.ok(error instanceof SettingsError);
  assert.equal(error.problems.length, 7);
  const text = error.message;
  for (const name of [
    'SLACK_BOT_TOKEN',
    'SLACK_APP_TOKEN',
    'SLACK_SIGNING_SECRET',
    'PORT',
    'CONTROL_REDIS_URL',
    'MIGRATION_BUDDY_CONFIG',
    'SLACK_API_URL',
  ]) {
    assert.equal(error.problems.filter((p) => p.startsWith(name)).length, 1, name);
  }
  for (const secret of [badBot, badApp, 'has space inside', 'ctl-secret-999']) {
    assert.ok(!text.includes(secret), secret);
  }
  assert.equal(text.split('\n').length, 8, 'a heading and one line per problem');
});

test('missing required settings are named', () => {
  assert.throws(
    () => readSlackSettings({}, exists),
    (err: SettingsError) => {
      assert.deepEqual(
        err.problems.map((p) => p.split(' ')[0]),
        ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'CONTROL_REDIS_URL'],
      );
      return true;
    },
  );
});
