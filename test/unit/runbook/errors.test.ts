import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyError, TransientStepError, UnrecoverableStepError } from '../../../src/runbook/errors.js';
import { UserError } from '../../../src/util/errors.js';

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('error classification', () => {
  const cases: [string, unknown, 'transient' | 'unrecoverable'][] = [
    ['connection refused (code)', withCode('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'), 'transient'],
    ['reset', withCode('read ECONNRESET', 'ECONNRESET'), 'transient'],
    ['timeout (message)', new Error('Command timed out'), 'transient'],
    ['connect() mapping', new UserError('cannot reach src (redis://x): connection refused'), 'transient'],
    ['LOADING', new Error('LOADING Redis is loading the dataset in memory'), 'transient'],
    ['closed', new Error('Connection is closed.'), 'transient'],
    ['auth', new Error('WRONGPASS invalid username-password pair'), 'unrecoverable'],
    ['auth (mapped)', new UserError('authentication failed for dst (redis://x)'), 'unrecoverable'],
    ['OOM', new Error("OOM command not allowed when used memory > 'maxmemory'."), 'unrecoverable'],
    ['ACL', new Error('NOPERM this user has no permissions to run the restore command'), 'unrecoverable'],
    ['verification', new Error('verification failed: 3 keys differ'), 'unrecoverable'],
    ['unknown', new Error('something odd'), 'unrecoverable'],
    ['explicit transient', new TransientStepError('try later'), 'transient'],
    [
      'explicit final, even if it mentions a timeout',
      new UnrecoverableStepError('timeout policy'),
      'unrecoverable',
    ],
  ];
  for (const [name, err, expected] of cases) {
    it(`${name} -> ${expected}`, () => assert.equal(classifyError(err), expected));
  }
});
