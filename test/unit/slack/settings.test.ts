import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';
import { readServeSettings, readSlackSettings, SettingsError } from '../../../src/slack/settings.js';
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

test('serve settings: config control.url wins over CONTROL_REDIS_URL (with a note), like the worker', () => {
  const load = (file: string) =>
    parseConfig('control:\n  url: redis://:cfg-pw-1@10.0.0.9:6390/1\nendpoints: {}\n', file, {});
  const env = {
    SLACK_BOT_TOKEN: BOT,
    SLACK_SIGNING_SECRET: SIGNING,
    CONTROL_REDIS_URL: 'redis://:env-pw-2@10.0.0.8',
  };
  const s = readServeSettings(env, { configPath: 'mb.yml', fileExists: exists, load });
  assert.equal(s.control.host, '10.0.0.9');
  assert.equal(s.config.file, 'mb.yml');
  assert.equal(s.notes.length, 1);
  assert.match(s.notes[0]!, /control\.url in mb\.yml \(redis:\/\/:\*\*\*@10\.0\.0\.9:6390\/1\) is used/);
  assert.ok(!s.notes[0]!.includes('cfg-pw-1') && !s.notes[0]!.includes('env-pw-2'));

  // Without control.url in the config, CONTROL_REDIS_URL is used, and required.
  const plain = (file: string) => parseConfig('endpoints: {}\n', file, {});
  assert.equal(readServeSettings(env, { fileExists: exists, load: plain }).control.host, '10.0.0.8');
  const { CONTROL_REDIS_URL: _, ...withoutControl } = env;
  assert.throws(
    () => readServeSettings(withoutControl, { fileExists: exists, load: plain }),
    (err: SettingsError) => {
      assert.deepEqual(
        err.problems.map((p) => p.split(' ')[0]),
        ['CONTROL_REDIS_URL'],
      );
      return true;
    },
  );
  // With it in the config, the variable may be unset.
  assert.equal(readServeSettings(withoutControl, { fileExists: exists, load }).control.port, 6390);
});

test('serve settings: config and environment problems are reported together, one line each', () => {
  const broken = (file: string) =>
    parseConfig('endpoints:\n  x:\n    url: redis://h\n    colour: blue\n', file, {});
  assert.throws(
    () =>
      readServeSettings(
        { SLACK_BOT_TOKEN: 'nope' },
        { configPath: 'bad.yml', fileExists: exists, load: broken },
      ),
    (err: SettingsError) => {
      assert.equal(err.problems.length, 4);
      assert.match(err.problems[0]!, /^Config bad\.yml: endpoints\.x/);
      assert.match(err.problems.join('\n'), /SLACK_BOT_TOKEN does not look like a bot token/);
      assert.match(err.problems.join('\n'), /SLACK_SIGNING_SECRET is not set/);
      assert.match(err.problems.join('\n'), /CONTROL_REDIS_URL is not set/);
      return true;
    },
  );
  assert.throws(
    () => readServeSettings({}, { configPath: 'missing.yml', fileExists: () => false }),
    (err: SettingsError) =>
      err.problems.some((p) => p === '--config points to missing.yml, which does not exist.'),
  );
});

test('tokens and the control Redis URL can come from files (<NAME>_FILE), and the wrong ones are named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mb-settings-files-'));
  try {
    const put = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const s = readSlackSettings(
      {
        SLACK_BOT_TOKEN_FILE: put('bot', `${BOT}\n`),
        SLACK_APP_TOKEN_FILE: put('app', APP),
        CONTROL_REDIS_URL_FILE: put('ctl', 'redis://:file-ctl-pass@127.0.0.1:6390'),
      },
      exists,
    );
    assert.equal(s.mode, 'socket');
    assert.equal(s.appToken, APP);
    assert.equal(s.controlRedisUrl, 'redis://:file-ctl-pass@127.0.0.1:6390');
    assert.equal(scrub(`${BOT} ${APP}`), '*** ***');
    assert.throws(
      () =>
        readSlackSettings(
          {
            SLACK_BOT_TOKEN: BOT,
            SLACK_BOT_TOKEN_FILE: put('bot2', BOT),
            SLACK_APP_TOKEN_FILE: join(dir, 'none'),
          },
          exists,
        ),
      (err: Error) => {
        assert.ok(err instanceof SettingsError);
        assert.match(err.message, /set SLACK_BOT_TOKEN or SLACK_BOT_TOKEN_FILE, not both/);
        assert.match(err.message, /SLACK_APP_TOKEN_FILE: cannot read .*none: ENOENT/);
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
