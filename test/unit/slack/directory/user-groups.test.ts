// User groups through usergroups.users.list (a stand-in client that counts calls), and who may plan.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequesterAccess } from '../../../../src/slack/directory/requesters.js';
import { SlackUserGroupDirectory } from '../../../../src/slack/directory/user-groups.js';
import { SlackRefusal } from '../../../../src/slack/errors.js';

function client(groups: Record<string, string[]>) {
  const calls: string[] = [];
  let failing = false;
  let gate: Promise<void> | undefined;
  return {
    calls,
    fail(on: boolean) {
      failing = on;
    },
    hold(p: Promise<void> | undefined) {
      gate = p;
    },
    usergroups: {
      users: {
        list: async ({ usergroup }: { usergroup: string }) => {
          calls.push(usergroup);
          if (gate) await gate;
          if (failing)
            throw Object.assign(new Error('ratelimited'), { code: 'slack_webapi_rate_limited_error' });
          const users = groups[usergroup];
          if (!users)
            throw Object.assign(new Error('no_such_subteam'), { code: 'slack_webapi_platform_error' });
          return { ok: true, users };
        },
      },
    },
  };
}

test('members are cached for the TTL; concurrent lookups share one call', async () => {
  let now = 1_000_000;
  const c = client({ S0SRE: ['U1', 'U2'] });
  const dir = new SlackUserGroupDirectory(c as never, { ttlMs: 60_000, now: () => now });
  let release!: () => void;
  c.hold(
    new Promise<void>((r) => {
      release = r;
    }),
  );
  const lookups = Promise.all([dir.membersOf('S0SRE'), dir.membersOf('S0SRE'), dir.membersOf('S0SRE')]);
  release();
  c.hold(undefined);
  assert.deepEqual(await lookups, [
    ['U1', 'U2'],
    ['U1', 'U2'],
    ['U1', 'U2'],
  ]);
  assert.equal(c.calls.length, 1, 'one call for three concurrent lookups');
  now += 59_000;
  await dir.membersOf('S0SRE');
  assert.equal(c.calls.length, 1, 'still fresh');
  now += 2000;
  await dir.membersOf('S0SRE');
  assert.equal(c.calls.length, 2, 'asked again after the TTL');
});

test('when Slack fails, a recent answer is used; without one the error surfaces', async () => {
  let now = 0;
  const c = client({ S0SRE: ['U1'] });
  const dir = new SlackUserGroupDirectory(c as never, { ttlMs: 1000, staleMs: 10_000, now: () => now });
  assert.deepEqual(await dir.membersOf('S0SRE'), ['U1']);
  c.fail(true);
  now = 5000;
  assert.deepEqual(await dir.membersOf('S0SRE'), ['U1'], 'stale but recent');
  now = 20_000;
  await assert.rejects(dir.membersOf('S0SRE'), /ratelimited/);
  await assert.rejects(dir.membersOf('S0OTHER'), /ratelimited/);
  c.fail(false);
  assert.equal(await dir.inAny('U1', ['S0NOPE', 'S0SRE']), true, 'a failing group does not hide the others');
  assert.deepEqual(await dir.membersOf('not-a-group'), [], 'ids that are not group ids are not looked up');
});

test('requesters: open without the config section; users and group members when set', async () => {
  const c = client({ S0DEVS: ['UDEV'] });
  const dir = new SlackUserGroupDirectory(c as never);
  const open = new RequesterAccess({ slack: { channels: [] } }, dir);
  assert.equal(open.restricted, false);
  assert.equal(await open.mayRequest('UANYONE'), true);

  const closed = new RequesterAccess(
    { slack: { channels: [], requesters: { users: ['ULEAD'], groups: ['S0DEVS'] } } },
    dir,
  );
  assert.equal(await closed.mayRequest('ULEAD'), true);
  assert.equal(await closed.mayRequest('UDEV'), true);
  assert.equal(await closed.mayRequest('USTRANGER'), false);
  await assert.rejects(closed.assertMayRequest('USTRANGER'), (err: SlackRefusal) => {
    assert.ok(err instanceof SlackRefusal);
    assert.match(err.message, /not one of the people who may plan migrations/);
    assert.equal(err.next, 'Ask one of <@ULEAD>, <!subteam^S0DEVS>, or an admin to add you.');
    return true;
  });
});
