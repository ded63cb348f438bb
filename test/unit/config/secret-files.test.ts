import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseConfig } from '../../../src/config/load.js';
import { controlEndpoint } from '../../../src/jobs/connection.js';
import { errorMessage } from '../../../src/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'mb-secret-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('config: every problem at once', () => {
  test('names every missing environment variable with its field in one error', () => {
    const text = [
      'endpoints:',
      '  a: { url: "redis://:${A_PW}@h" }',
      '  b: { url: "redis://h:${B_PORT}" }',
      'control: { url: "${CONTROL_URL}" }',
    ].join('\n');
    assert.throws(
      () => parseConfig(text, 'mb.yml', {}),
      (err: Error) => {
        assert.match(err.message, /^mb\.yml: 3 problems:/);
        assert.match(err.message, /endpoints\.a\.url: environment variable A_PW is not set/);
        assert.match(err.message, /endpoints\.b\.url: environment variable B_PORT is not set/);
        assert.match(err.message, /control\.url: environment variable CONTROL_URL is not set/);
        return true;
      },
    );
  });

  test('one missing variable keeps the one-line form', () => {
    assert.throws(
      () => parseConfig('endpoints:\n  a: { url: "redis://:${NOPE}@h" }', 'mb.yml', {}),
      /^ConfigError: mb\.yml: endpoints\.a\.url: environment variable NOPE is not set$|mb\.yml: endpoints\.a\.url: environment variable NOPE is not set/,
    );
  });
});

describe('config: secrets from files', () => {
  test('passwordFile gives the endpoint its password, without the trailing newline, and scrubs it', () => {
    const pw = file('redis-pw', 's3cret-from-a-file\n');
    const config = parseConfig(
      `endpoints:\n  a: { url: "redis://h:6379", passwordFile: "${pw}" }`,
      'mb.yml',
      {},
    );
    assert.equal(config.resolvedEndpoints.get('a')?.password, 's3cret-from-a-file');
    // The file's text is a secret from now on: no error or log line shows it.
    assert.equal(
      errorMessage(new Error('AUTH s3cret-from-a-file failed')).includes('s3cret-from-a-file'),
      false,
    );
  });

  test("the control Redis's password comes from control.passwordFile", () => {
    const pw = file('control-pw', 'ctl-from-file');
    const config = parseConfig(
      `endpoints: {}\ncontrol: { url: "redis://127.0.0.1:6390", passwordFile: "${pw}" }`,
      'mb.yml',
      {},
    );
    assert.equal(controlEndpoint(config, {}).password, 'ctl-from-file');
  });

  test('a hook secret comes from secretFile', () => {
    const key = file('hook-key', 'hmac-key-1');
    const config = parseConfig(
      `endpoints: {}\nhooks:\n  notify: { url: "https://example.com/h", secretFile: "${key}" }`,
      'mb.yml',
      {},
    );
    assert.equal((config.hooks?.notify as { secret?: string } | undefined)?.secret, 'hmac-key-1');
  });

  test('a missing, an empty and a doubly given secret file are each named, with the variables, at once', () => {
    const empty = file('empty', '\n');
    const text = [
      'endpoints:',
      `  a: { url: "redis://h", passwordFile: "${join(dir, 'nope')}" }`,
      `  b: { url: "redis://h", passwordFile: "${empty}" }`,
      `  c: { url: "redis://h", password: x, passwordFile: "${empty}" }`,
      '  d: { url: "redis://${D_HOST}" }',
    ].join('\n');
    assert.throws(
      () => parseConfig(text, 'mb.yml', {}),
      (err: Error) => {
        assert.match(err.message, /4 problems/);
        assert.match(err.message, /endpoints\.a\.passwordFile: cannot read .*nope: ENOENT/);
        assert.match(err.message, /endpoints\.b\.passwordFile: .*empty is empty/);
        assert.match(err.message, /endpoints\.c\.passwordFile: give password or passwordFile, not both/);
        assert.match(err.message, /endpoints\.d\.url: environment variable D_HOST is not set/);
        return true;
      },
    );
  });
});
