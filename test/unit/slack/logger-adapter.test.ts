import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogLevel } from '@slack/bolt';
import { redactCredentials, slackLoggerFrom } from '../../../src/slack/logger-adapter.js';
import { createLogger } from '../../../src/util/logger.js';
import { registerSecret } from '../../../src/util/secrets.js';

function capture(level = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level }, (line) => lines.push(JSON.parse(line)));
  return { logger, lines };
}

test('variadic Slack log calls become one pino line with the component name', () => {
  const { logger, lines } = capture();
  const slack = slackLoggerFrom(logger, 'bolt', LogLevel.DEBUG);
  slack.info('connected', { team: 'T1' }, 3);
  slack.error('failed:', new Error('boom'));
  assert.equal(lines[0]!.msg, 'connected {"team":"T1"} 3');
  assert.equal(lines[0]!.component, 'bolt');
  assert.equal(lines[1]!.msg, 'failed: boom');
  assert.equal(lines[1]!.level, 50);
  assert.ok(lines[1]!.err);
});

test('levels: follows pino, can be changed, and stays at info or above unless asked', () => {
  const { logger, lines } = capture('debug');
  const quiet = slackLoggerFrom(logger, 'socket-mode');
  assert.equal(quiet.getLevel(), LogLevel.INFO);
  quiet.debug('payload with what someone typed');
  quiet.setLevel(LogLevel.DEBUG);
  assert.equal(quiet.getLevel(), LogLevel.INFO, 'clamped');
  quiet.debug('still dropped');
  assert.equal(lines.length, 0);

  const loud = slackLoggerFrom(logger, 'bolt', LogLevel.DEBUG);
  loud.debug('shown');
  loud.setLevel(LogLevel.WARN);
  loud.info('dropped');
  loud.warn('kept');
  loud.setName('renamed');
  loud.error('after rename');
  assert.deepEqual(
    lines.map((l) => [l.msg, l.component]),
    [
      ['shown', 'bolt'],
      ['kept', 'bolt'],
      ['after rename', 'renamed'],
    ],
  );
});

test('registered secrets and URL credentials are masked', () => {
  registerSecret('adapter-secret-1');
  const { logger, lines } = capture();
  const slack = slackLoggerFrom(logger, 'bolt', LogLevel.DEBUG);
  slack.debug('text: plan redis://default:typed-pw@h:6379 x password=also-typed', 'adapter-secret-1');
  const out = JSON.stringify(lines);
  for (const s of ['typed-pw', 'also-typed', 'adapter-secret-1']) assert.ok(!out.includes(s), s);
  assert.equal(redactCredentials('rediss://u:p@h'), 'rediss://u:***@h');
});
