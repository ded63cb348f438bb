import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLogger, logFormat } from '../../../src/util/logger.js';
import { forgetSecrets, registerSecret } from '../../../src/util/secrets.js';

describe('logger', () => {
  test('LOG_FORMAT decides; without it, pretty on a terminal and JSON otherwise', () => {
    assert.equal(logFormat({}, false), 'json');
    assert.equal(logFormat({}, true), 'pretty');
    assert.equal(logFormat({ LOG_FORMAT: 'pretty' }, false), 'pretty');
    assert.equal(logFormat({ LOG_FORMAT: 'JSON' }, true), 'json');
    assert.equal(logFormat({ LOG_FORMAT: 'xml' }, false), 'json');
  });

  test('pretty lines are for people and scrubbed like the JSON ones', () => {
    registerSecret('pretty-secret-4242');
    try {
      const lines: string[] = [];
      const log = createLogger({ level: 'info' }, (l) => lines.push(l), 'pretty');
      log.warn({ password: 'field-pw-1', migrationId: 'm1' }, 'could not reach pretty-secret-4242');
      const [line] = lines;
      assert.ok(line);
      assert.match(line, /WARN/);
      assert.match(line, /could not reach \*\*\*/);
      assert.match(line, /migrationId: "m1"/);
      assert.doesNotMatch(line, /^\{/);
      for (const secret of ['pretty-secret-4242', 'field-pw-1']) assert.ok(!line.includes(secret), secret);

      const json: string[] = [];
      createLogger({ level: 'info' }, (l) => json.push(l)).info('plain');
      assert.equal(JSON.parse(json[0]!).msg, 'plain');
    } finally {
      forgetSecrets();
    }
  });
});
