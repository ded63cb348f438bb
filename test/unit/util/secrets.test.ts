import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../../src/util/logger.js';
import { registerSecret, scrub, scrubDeep } from '../../../src/util/secrets.js';

test('scrub removes registered secrets and their URL-encoded forms', () => {
  registerSecret('s3cr3t/p@ss');
  assert.equal(scrub('auth s3cr3t/p@ss failed'), 'auth *** failed');
  assert.equal(scrub('redis://u:s3cr3t%2Fp%40ss@h'), 'redis://u:***@h');
  assert.deepEqual(scrubDeep({ a: ['x s3cr3t/p@ss'], n: 1 }), { a: ['x ***'], n: 1 });
});

test('the logger redacts secret fields and registered secrets anywhere in a line', () => {
  registerSecret('logger-secret-value');
  const lines: string[] = [];
  const log = createLogger({ level: 'info' }, (line) => lines.push(line));
  log.info(
    { password: 'field-secret', endpoint: { password: 'nested-secret' } },
    'connect with logger-secret-value',
  );
  log.error(new Error('WRONGPASS logger-secret-value'), 'failed');
  const out = lines.join('');
  for (const secret of ['field-secret', 'nested-secret', 'logger-secret-value'])
    assert.ok(!out.includes(secret), secret);
  assert.match(out, /\*\*\*/);
});
