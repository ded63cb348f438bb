import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ParseResult,
  parseMigrateCommand,
  tokenize,
} from '../../../../src/slack/slash-command/parse.js';
import { USAGE } from '../../../../src/slack/slash-command/usage.js';

function ok(text: string) {
  const r = parseMigrateCommand(text);
  assert.ok(r.ok, `expected "${text}" to parse, got: ${r.ok ? '' : r.error}`);
  return r.command;
}

function err(text: string): Extract<ParseResult, { ok: false }> {
  const r = parseMigrateCommand(text);
  assert.ok(!r.ok, `expected "${text}" to be refused`);
  assert.ok(r.error.length > 0 && r.usage.length > 0);
  return r;
}

test('empty text and help give help; help takes a subcommand topic', () => {
  assert.deepEqual(ok(''), { kind: 'help' });
  assert.deepEqual(ok('   '), { kind: 'help' });
  assert.deepEqual(ok('help'), { kind: 'help' });
  assert.deepEqual(ok('HELP plan'), { kind: 'help', topic: 'plan' });
  assert.match(err('help me please').error, /at most one subcommand/);
});

test('simple subcommands', () => {
  assert.deepEqual(ok('endpoints'), { kind: 'endpoints' });
  assert.deepEqual(ok('list'), { kind: 'list' });
  assert.deepEqual(ok('status'), { kind: 'status' });
  assert.deepEqual(ok('status mig-42'), { kind: 'status', id: 'mig-42' });
  assert.deepEqual(ok('verify mig_1'), { kind: 'verify', id: 'mig_1' });
  assert.deepEqual(ok('abort m1'), { kind: 'abort', id: 'm1' });
  assert.deepEqual(ok('audit m1'), { kind: 'audit', id: 'm1' });
  assert.match(err('list extra').error, /takes no arguments/);
  assert.equal(err('list extra').usage, USAGE.list);
  assert.match(err('verify').error, /exactly one migration id/);
  assert.equal(err('verify').usage, USAGE.verify);
  assert.match(err('abort a b').error, /exactly one/);
  assert.match(err('status mig:42').error, /not a migration id/);
});

test('unlock takes one endpoint name, never an address', () => {
  assert.deepEqual(ok('unlock new-cache'), { kind: 'unlock', endpoint: 'new-cache' });
  assert.match(err('unlock').error, /exactly one endpoint name/);
  assert.equal(err('unlock a b').usage, USAGE.unlock);
  const address = err('unlock 10.0.0.5:6379');
  assert.doesNotMatch(address.error, /10\.0\.0\.5/, 'an address is not repeated');
});

test('plan with defaults', () => {
  assert.deepEqual(ok('plan old-cache new-cache'), {
    kind: 'plan',
    source: 'old-cache',
    target: 'new-cache',
    strategy: 'auto',
    dbs: 'all',
    onNonEmptyTarget: 'refuse',
  });
});

test('plan with every option, in any order, takes the user id from an escaped mention', () => {
  assert.deepEqual(
    ok(
      'plan  old-cache\tnew-cache flush-target match=user:&lt;id&gt;* db=3,0,3 buddy=<@U0BUDDY|alex> strategy=Dump-Restore',
    ),
    {
      kind: 'plan',
      source: 'old-cache',
      target: 'new-cache',
      strategy: 'dump-restore',
      buddyId: 'U0BUDDY',
      dbs: [0, 3],
      match: 'user:<id>*',
      onNonEmptyTarget: 'flush',
    },
  );
  const c = ok('plan a b replace buddy=<@W0ENTERPRISE>');
  assert.ok(c.kind === 'plan' && c.onNonEmptyTarget === 'replace' && c.buddyId === 'W0ENTERPRISE');
  // A mention's label can contain spaces: it is one word.
  const d = ok('plan a b buddy=<@U0BUDDY|Alex Smith>');
  assert.ok(d.kind === 'plan' && d.buddyId === 'U0BUDDY');
});

test('plan errors say what was wrong and show the plan usage', () => {
  const cases: [string, RegExp][] = [
    ['plan', /needs a source and a target/],
    ['plan old-cache', /needs a target/],
    ['plan a b c', /exactly two endpoint names/],
    ['plan a a', /same endpoint name\.$/],
    ['plan a b strategy=fast', /strategy= must be one of auto, replication, psync, dump-restore, migrate/],
    ['plan a b buddy=@alex', /must be a Slack mention/],
    ['plan a b buddy=<@lower>', /must be a Slack mention/],
    ['plan a b <@U0BUDDY|alex>', /write buddy=@user/],
    ['plan a b db=x', /db= must be all/],
    ['plan a b db=1,,2', /db= must be all/],
    ['plan a b match=', /needs a key pattern/],
    [`plan a b match=${'x'.repeat(300)}`, /too long/],
    ['plan a b replace flush-target', /one of replace and flush-target/],
    ['plan a b db=1 db=2', /db= is given twice/],
    ['plan a b color=red', /^Unknown option; plan knows/],
    ['plan café b', /source is not an endpoint name/],
    ['plan a <#C1|general>', /Only endpoint names/],
  ];
  for (const [text, pattern] of cases) {
    const e = err(text);
    assert.match(e.error, pattern, text);
    assert.equal(e.usage, USAGE.plan, text);
  }
});

test('what was typed is never repeated, even when it looks like a name', () => {
  const typed = 'Fz-pw-9731';
  for (const text of [
    `${typed} b`,
    `plan a b ${typed}=1`,
    `plan ${typed} ${typed}`,
    `plan ${typed} b c`,
    `status ${typed} x`,
    `verify ${typed}!`,
    `help ${typed}`,
    `list ${typed}`,
  ]) {
    const e = err(text);
    assert.ok(!e.error.includes(typed) && !e.usage.includes(typed), text);
  }
  assert.equal(err('start m1').error, 'Unknown subcommand.');
  assert.match(err('s3cr3t!pa$$ b').usage, /\/migrate plan/);
});

test('connection strings, hosts and passwords are refused without being repeated', () => {
  const secret = 'Tr0ub4dor-and-3';
  const inputs = [
    `plan redis://default:${secret}@db:6379 new-cache`,
    `plan rediss://:${secret}@db new-cache`,
    `plan <redis://u:${secret}@h|redis://u:${secret}@h> new-cache`,
    `plan old-cache new-cache password=${secret}`,
    `plan u:${secret}@10.0.0.5 new-cache`,
    `AUTH default ${secret}`,
    `plan -a ${secret} x y`,
    `plan xoxb-${secret} b`,
    `plan http://${secret}.example.com b`,
  ];
  for (const text of inputs) {
    const e = err(text);
    assert.equal(e.sensitive, true, text);
    assert.match(e.error, /connection string/);
    assert.match(e.error, /channel history is forever/);
    assert.ok(!e.error.includes(secret) && !e.usage.includes(secret), text);
  }
  for (const text of ['plan 10.0.0.5 b', 'plan a cache.internal:6379', 'plan [::1]:6379 b']) {
    assert.equal(err(text).sensitive, true, text);
  }
  for (const text of ['plan a b match=10.0.0.5:6379', 'plan a b match=cache.example.com:6379']) {
    assert.equal(err(text).sensitive, true, text);
  }
  // A dotted name is a name (the config decides whether it exists), and key patterns may hold colons.
  assert.ok(parseMigrateCommand('plan prod.cache new.cache match=token:*').ok);
  assert.ok(parseMigrateCommand('plan a b match=user:1000').ok);
});

test('tokenize keeps Slack escapes whole and splits on any whitespace', () => {
  assert.deepEqual(tokenize(' a\u00a0b\u3000<@U1|x y>  c\n'), ['a', 'b', '<@U1|x y>', 'c']);
  assert.deepEqual(tokenize('a <unterminated b'), ['a', '<unterminated b']);
});

test('input over 1000 characters is refused before anything else', () => {
  assert.match(err(`plan ${'a'.repeat(1200)}`).error, /too long/);
});
