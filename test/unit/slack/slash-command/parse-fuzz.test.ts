// Fuzz: thousands of random texts never make the parser throw, always give a valid command or an
// error with usage, and a pasted credential is never accepted or repeated.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ENDPOINT_NAME,
  MIGRATION_ID,
  type MigrateCommand,
  parseMigrateCommand,
} from '../../../../src/slack/slash-command/parse.js';
import { isSubcommand } from '../../../../src/slack/slash-command/usage.js';
import {
  randomCommandText,
  randomSecret,
  seededRng,
  textWithSecret,
  UNCONFIGURED_NAME,
} from '../../../fake-slack/fuzz.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20240611);
const RUNS = 5000;

function assertValidCommand(c: MigrateCommand, text: string): void {
  const where = `seed ${SEED}, input ${JSON.stringify(text)}`;
  switch (c.kind) {
    case 'plan':
      assert.match(c.source, ENDPOINT_NAME, where);
      assert.match(c.target, ENDPOINT_NAME, where);
      assert.notEqual(c.source, c.target, where);
      assert.ok(['auto', 'replication', 'dump-restore', 'migrate'].includes(c.strategy), where);
      if (c.buddyId !== undefined) assert.match(c.buddyId, /^[UW][A-Z0-9]+$/, where);
      if (c.dbs !== 'all')
        assert.ok(
          c.dbs.every((d) => Number.isInteger(d) && d >= 0),
          where,
        );
      if (c.match !== undefined) {
        assert.ok(c.match.length > 0 && c.match.length <= 256, where);
        assert.ok(!/[\u0000-\u001f\u007f]/.test(c.match), where);
        assert.ok(!c.match.includes('://'), where);
      }
      assert.ok(['refuse', 'replace', 'flush'].includes(c.onNonEmptyTarget), where);
      break;
    case 'status':
      if (c.id !== undefined) assert.match(c.id, MIGRATION_ID, where);
      break;
    case 'verify':
    case 'abort':
    case 'audit':
      assert.match(c.id, MIGRATION_ID, where);
      break;
    case 'help':
      if (c.topic !== undefined) assert.ok(isSubcommand(c.topic), where);
      break;
    case 'list':
    case 'endpoints':
      break;
  }
}

test(`${RUNS} random texts: never throws, always a valid command or an error with usage`, () => {
  const rng = seededRng(SEED);
  let accepted = 0;
  for (let i = 0; i < RUNS; i += 1) {
    const text = randomCommandText(rng);
    const where = `seed ${SEED}, run ${i}, input ${JSON.stringify(text.slice(0, 200))}`;
    const result = parseMigrateCommand(text);
    if (result.ok) {
      accepted += 1;
      assertValidCommand(result.command, text);
    } else {
      assert.ok(result.error.length > 0 && result.error.length < 600, where);
      assert.ok(result.usage.length > 0, where);
      assert.ok(!result.error.includes('://'), where);
      assert.ok(!result.error.includes(UNCONFIGURED_NAME), `${where}: the error repeats what was typed`);
      assert.ok(!/[\u0000-\u0008\u000b-\u001f]/.test(result.error), where);
    }
  }
  // The generator must exercise both paths, or this test proves little.
  assert.ok(accepted > RUNS * 0.02, `only ${accepted} accepted`);
  assert.ok(accepted < RUNS * 0.9, `${accepted} accepted`);
});

test('texts with a pasted credential are always refused and the credential is never repeated', () => {
  const rng = seededRng(SEED + 1);
  for (let i = 0; i < 2000; i += 1) {
    const secret = randomSecret(rng);
    const text = textWithSecret(rng, secret);
    const result = parseMigrateCommand(text);
    const where = `seed ${SEED + 1}, run ${i}, input ${JSON.stringify(text)}`;
    assert.ok(!result.ok, where);
    assert.ok(!result.error.includes(secret), where);
    assert.ok(!result.usage.includes(secret), where);
    assert.ok(!result.error.includes('://'), where);
  }
});

test('non-string input does not throw', () => {
  for (const v of [undefined, null, 42, {}, []]) {
    const r = parseMigrateCommand(v as unknown as string);
    assert.ok(r.ok ? r.command.kind === 'help' : r.error.length > 0);
  }
});
