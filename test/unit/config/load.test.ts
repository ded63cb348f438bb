import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig, parseConfig, resolveEndpoint } from '../../../src/config/load.js';
import { ConfigError, UserError } from '../../../src/util/errors.js';

const file = 'mb.yml';

describe('parseConfig', () => {
  test('reads endpoints with env interpolation, TLS and defaults', () => {
    const config = parseConfig(
      [
        'endpoints:',
        '  old:',
        '    url: redis://default:${OLD_PW}@10.0.0.1:6380/2',
        '  new:',
        '    url: rediss://cache.internal:6379',
        '    username: migrator',
        '    password: ${NEW_PW}',
        '    tls: { ca: /etc/ca.pem, servername: cache.example }',
        '    connectTimeout: 2500ms',
        '  local:',
        '    url: redis://127.0.0.1:${PORT:-6379}',
        'approvals:',
        '  expiresAfter: 90m',
      ].join('\n'),
      file,
      { OLD_PW: 'old-secret', NEW_PW: 'p@ss/word' },
    );
    const old = config.resolvedEndpoints.get('old')!;
    assert.equal(old.host, '10.0.0.1');
    assert.equal(old.port, 6380);
    assert.equal(old.db, 2);
    assert.equal(old.password, 'old-secret');
    assert.equal(old.redactedUrl, 'redis://default:***@10.0.0.1:6380/2');
    const neu = config.resolvedEndpoints.get('new')!;
    assert.deepEqual(neu.tls, { ca: '/etc/ca.pem', servername: 'cache.example' });
    assert.equal(neu.username, 'migrator');
    assert.equal(neu.password, 'p@ss/word');
    assert.equal(neu.redactedUrl, 'rediss://cache.internal:6379');
    assert.equal(neu.connectTimeoutMs, 2500);
    assert.equal(config.resolvedEndpoints.get('local')!.port, 6379);
    assert.equal(config.resolvedEndpoints.get('local')!.connectTimeoutMs, undefined);
    assert.equal(config.approvals?.expiresAfter, 90 * 60_000);
  });

  const bad: [string, string, RegExp][] = [
    ['unknown top-level key', 'endpoints: {}\nendpoint: {}', /mb\.yml: \(top level\).*endpoint/],
    ['missing url', 'endpoints:\n  a: {}', /mb\.yml: endpoints\.a\.url/],
    [
      'wrong scheme',
      'endpoints:\n  a: { url: "http://x" }',
      /mb\.yml: endpoints\.a\.url: must start with redis:\/\//,
    ],
    ['bad db', 'endpoints:\n  a: { url: "redis://h/x" }', /endpoints\.a\.url: database must be a number/],
    ['misspelt tls key', 'endpoints:\n  a: { url: "rediss://h", tls: { cafile: x } }', /endpoints\.a\.tls/],
    ['cert without key', 'endpoints:\n  a: { url: "rediss://h", tls: { cert: c.pem } }', /cert and key/],
    [
      'bad connectTimeout',
      'endpoints:\n  a: { url: "redis://h", connectTimeout: soon }',
      /endpoints\.a\.connectTimeout: must be a duration/,
    ],
    [
      'missing env var',
      'endpoints:\n  a: { url: "redis://:${NOPE}@h" }',
      /endpoints\.a\.url: environment variable NOPE is not set/,
    ],
    [
      'bad duration',
      'endpoints: {}\napprovals: { expiresAfter: soon }',
      /approvals\.expiresAfter: must be a duration/,
    ],
    [
      'bad approver id',
      'endpoints: {}\napprovers: { users: [alice] }',
      /approvers\.users\.0: must be a Slack user id/,
    ],
    ['invalid yaml', 'endpoints: [\n', /mb\.yml: line \d+: invalid YAML/],
  ];
  for (const [name, text, expected] of bad) {
    test(`rejects ${name} with a message naming file and field`, () => {
      assert.throws(
        () => parseConfig(text, file, {}),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, String(err));
          assert.match(err.message, expected);
          return true;
        },
      );
    });
  }

  test("copy.bigKeyThresholdBytes takes a size in the CLI options' units, or bytes", () => {
    const size = (value: string) =>
      parseConfig(`endpoints: {}\ncopy:\n  bigKeyThresholdBytes: ${value}\n`, file, {}).copy
        ?.bigKeyThresholdBytes;
    assert.equal(size('64mb'), 64 * 1024 * 1024);
    assert.equal(size('64MiB'), 64 * 1024 * 1024);
    assert.equal(size('64m'), 64_000_000);
    assert.equal(size('1048576'), 1_048_576);
    assert.throws(
      () => size('64 furlongs'),
      (err: Error) => err instanceof ConfigError && /64mb/.test(err.message),
    );
  });

  test('errors never contain the password', () => {
    assert.throws(
      () => parseConfig('endpoints:\n  a: { url: "redis://u:hunter2-secret@h:99999" }', file, {}),
      (err: Error) => err instanceof ConfigError && !err.message.includes('hunter2-secret'),
    );
  });

  test('a missing file is reported with its path', () => {
    assert.throws(() => loadConfig('/nonexistent/mb.yml'), /\/nonexistent\/mb\.yml: .*file not found/);
  });

  test('loads a file from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb-config-'));
    const path = join(dir, 'c.yml');
    writeFileSync(path, 'endpoints:\n  a: { url: "redis://127.0.0.1:7000" }\n');
    assert.equal(loadConfig(path).resolvedEndpoints.get('a')!.port, 7000);
  });
});

describe('resolveEndpoint', () => {
  const config = parseConfig('endpoints:\n  a: { url: "redis://127.0.0.1:7000" }', file, {});
  test('finds names and parses raw URLs', () => {
    assert.equal(resolveEndpoint('a', config).port, 7000);
    assert.equal(resolveEndpoint('redis://:pw1234@127.0.0.1:7001/3', undefined).db, 3);
  });
  test('unknown names list the known ones', () => {
    assert.throws(
      () => resolveEndpoint('b', config, 'the source'),
      (err: unknown) => {
        assert.ok(err instanceof UserError);
        assert.match(err.message, /^the source is not an endpoint in the config \(known endpoints: a\)/);
        assert.ok(!err.message.includes('"b"'), 'the typed name is not repeated');
        return true;
      },
    );
  });
});
