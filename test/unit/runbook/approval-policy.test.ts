import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ApprovalPolicy,
  checkPlanPolicy,
  checkRequest,
  decideAbort,
  decideApproval,
  decideConfirmation,
  decideRejection,
  type Identity,
  quorumFor,
} from '../../../src/runbook/approval-policy.js';
import type { Migration } from '../../../src/runbook/model.js';
import { stepHash } from '../../../src/runbook/step-hash.js';
import { awaiting, memoryMigration, SETTINGS } from './fixtures.js';

const NOW = Date.parse('2026-01-01T10:00:00.000Z');
const who = (userId: string, groups: string[] = []): Identity => ({ userId, groups });

// Step 1 of the fixture plan is "2-bulk-copy" (kind bulk_copy), gated.
function setup(policy: ApprovalPolicy = SETTINGS, overrides: Partial<Migration> = {}) {
  const migration = memoryMigration({ policy, ...overrides });
  const step = awaiting(migration, 1, NOW - 1000);
  step.quorum = quorumFor(step, policy);
  return { migration, step };
}

function approve(
  userId: string,
  opts: { groups?: string[]; hash?: string; nowMs?: number } = {},
  s = setup(),
) {
  return decideApproval({
    migration: s.migration,
    step: s.step,
    who: who(userId, opts.groups),
    stepHash: opts.hash ?? s.step.hash,
    nowMs: opts.nowMs ?? NOW,
  });
}

const APPROVERS: ApprovalPolicy = SETTINGS; // users UAPPROVER1, UAPPROVER2, UREQ; group SDBA
const NOBODY: ApprovalPolicy = { ...SETTINGS, approvers: { users: [], groups: [] } };
const quorum = (n: number, base = APPROVERS): ApprovalPolicy => ({ ...base, quorum: { bulk_copy: n } });

/**
 * One row: a policy, a buddy, then clicks in order (user, groups); each click's expected outcome:
 * 'recorded' (counted, more needed), 'approved' (quorum met) or a refusal code.
 */
interface Row {
  name: string;
  policy: ApprovalPolicy;
  buddy?: string;
  clicks: [user: string, groups: string[], outcome: string][];
}

const ROWS: Row[] = [
  {
    name: 'the requester never, even as a configured approver',
    policy: APPROVERS,
    clicks: [['UREQ', [], 'requester']],
  },
  {
    name: 'the requester never, even in an approver group',
    policy: APPROVERS,
    clicks: [['UREQ', ['SDBA'], 'requester']],
  },
  { name: 'a configured approver, quorum 1', policy: APPROVERS, clicks: [['UAPPROVER1', [], 'approved']] },
  { name: 'a member of an approver group', policy: APPROVERS, clicks: [['USOMEONE', ['SDBA'], 'approved']] },
  {
    name: 'someone outside the users and the groups',
    policy: APPROVERS,
    clicks: [['USTRANGER', ['SOTHER'], 'not_approver']],
  },
  {
    name: 'a buddy who is an approver, quorum 1',
    policy: APPROVERS,
    buddy: 'UAPPROVER2',
    clicks: [['UAPPROVER2', [], 'approved']],
  },
  {
    name: 'a buddy who is not an approver cannot approve (named buddies do not bypass approvers)',
    policy: APPROVERS,
    buddy: 'UBUDDY',
    clicks: [['UBUDDY', [], 'not_approver']],
  },
  {
    name: 'with a buddy and quorum 1, another approver cannot take the buddy’s place',
    policy: APPROVERS,
    buddy: 'UAPPROVER2',
    clicks: [
      ['UAPPROVER1', [], 'needs_buddy'],
      ['UAPPROVER2', [], 'approved'],
    ],
  },
  {
    name: 'quorum 2 with a buddy: the buddy alone is not enough',
    policy: quorum(2),
    buddy: 'UAPPROVER1',
    clicks: [
      ['UAPPROVER1', [], 'recorded'],
      ['UAPPROVER1', [], 'duplicate'],
      ['UREQ', [], 'requester'],
      ['USTRANGER', [], 'not_approver'],
      ['UAPPROVER2', [], 'approved'],
    ],
  },
  {
    name: 'quorum 2 with a buddy: another approver first, then the buddy',
    policy: quorum(2),
    buddy: 'UAPPROVER1',
    clicks: [
      ['USRE', ['SDBA'], 'recorded'],
      ['UAPPROVER2', [], 'needs_buddy'],
      ['UAPPROVER1', [], 'approved'],
    ],
  },
  {
    name: 'quorum 2 without a buddy: two distinct approvers, each counted once',
    policy: quorum(2),
    clicks: [
      ['UAPPROVER1', [], 'recorded'],
      ['UAPPROVER1', [], 'duplicate'],
      ['UAPPROVER2', [], 'approved'],
    ],
  },
  {
    name: 'quorum 3 with a buddy and a group',
    policy: quorum(3),
    buddy: 'UAPPROVER2',
    clicks: [
      ['UAPPROVER2', [], 'recorded'],
      ['USRE', ['SDBA'], 'recorded'],
      ['USRE', ['SDBA'], 'duplicate'],
      ['UAPPROVER1', [], 'approved'],
    ],
  },
  {
    name: 'no approvers configured: only the buddy (the weaker mode)',
    policy: NOBODY,
    buddy: 'UBUDDY',
    clicks: [
      ['UREQ', [], 'requester'],
      ['UOTHER', [], 'not_buddy'],
      ['UBUDDY', [], 'approved'],
    ],
  },
  { name: 'no approvers and no buddy: nobody', policy: NOBODY, clicks: [['UANY', [], 'no_approvers']] },
];

describe('who may approve (table)', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const s = setup(row.policy, row.buddy ? { buddy: row.buddy } : {});
      for (const [i, [user, groups, outcome]] of row.clicks.entries()) {
        const res = approve(user, { groups }, s);
        const got = res.ok ? (res.complete ? 'approved' : 'recorded') : res.code;
        assert.equal(got, outcome, `click ${i + 1} by ${user}: ${res.ok ? '' : res.reason}`);
        if (res.ok) s.step.approvals = res.approvals;
      }
    });
  }

  it('refusals say why and what to do', () => {
    const buddy = setup(APPROVERS, { buddy: 'UBUDDY' });
    const notApprover = approve('UBUDDY', {}, buddy);
    assert.match(!notApprover.ok ? notApprover.reason : '', /being named the buddy does not make you one/);
    const s = setup(quorum(2), { buddy: 'UAPPROVER1' });
    s.step.approvals = [{ userId: 'UAPPROVER2', at: 'x', stepHash: s.step.hash }];
    const res = approve('USRE', { groups: ['SDBA'] }, s);
    assert.match(
      !res.ok ? res.reason : '',
      /the named buddy \(UAPPROVER1\) must be one of the 2 approvals .* 1 other has approved; ask the buddy/,
    );
  });
});

describe('which step version an approval counts for', () => {
  const rows: [string, (s: ReturnType<typeof setup>) => string, boolean][] = [
    ['the hash on the request', (s) => s.step.hash, true],
    ['an older version of the step', () => 'f'.repeat(64), false],
    ['the same step of another migration', (s) => stepHash('mother', s.step), false],
    ['another step of this migration', (s) => s.migration.steps[3]!.hash, false],
  ];
  for (const [name, hashOf, counts] of rows) {
    it(`${name}: ${counts ? 'counts' : 'refused, nothing recorded'}`, () => {
      const s = setup();
      const res = approve('UAPPROVER1', { hash: hashOf(s) }, s);
      assert.equal(res.ok, counts);
      if (!res.ok) {
        assert.equal(res.code, 'stale_hash');
        assert.match(res.reason, /not for the current version of .* in migration mtest/);
      }
    });
  }

  it('approvals of an older hash do not count towards the quorum', () => {
    const s = setup(quorum(2));
    s.step.approvals = [{ userId: 'UAPPROVER1', at: 'x', stepHash: 'old' }];
    const res = approve('UAPPROVER2', {}, s);
    assert.ok(res.ok);
    assert.equal(res.complete, false);
  });
});

describe('expiry', () => {
  for (const [offset, ok] of [
    [-1, true],
    [0, false],
    [60_000, false],
  ] as const) {
    it(`a click ${offset} ms from the expiry ${ok ? 'counts' : 'is refused'}`, () => {
      const s = setup();
      const expiresAt = Date.parse(s.step.approvalExpiresAt!);
      const res = approve('UAPPROVER1', { nowMs: expiresAt + offset }, s);
      assert.equal(res.ok, ok);
      if (!res.ok) {
        assert.equal(res.code, 'expired');
        assert.match(res.reason, /expired at .*ask for it again/);
      }
    });
  }
});

describe('the policy is the migration’s own', () => {
  it('quorum per step kind applies with or without a buddy', () => {
    for (const q of [1, 2, 3]) {
      assert.equal(quorumFor({ kind: 'bulk_copy' }, quorum(q)), q);
    }
    assert.equal(quorumFor({ kind: 'verify' }, quorum(3)), 1, 'other kinds default to 1');
    assert.equal(quorumFor({ kind: 'bulk_copy' }, { ...APPROVERS, quorum: { bulk_copy: 0 } }), 1);
  });

  it('the step’s frozen quorum wins over any policy in reach', () => {
    const s = setup(quorum(2));
    // A process with another config could only change what is not stored: the stored step says 2.
    s.migration.policy = quorum(1);
    const res = approve('UAPPROVER1', {}, s);
    assert.ok(res.ok);
    assert.equal(res.quorum, 2);
    assert.equal(res.complete, false);
  });

  it('the approvers are the migration’s, not anyone else’s', () => {
    const s = setup(APPROVERS);
    assert.ok(approve('UAPPROVER1', {}, s).ok);
    s.migration.policy = { ...APPROVERS, approvers: { users: ['UOTHER'], groups: [] } };
    assert.equal((approve('UAPPROVER1', {}, s) as { code?: string }).code, 'not_approver');
  });

  it('a document without a policy is closed: only its buddy, one approval', () => {
    const s = setup(APPROVERS, { buddy: 'UBUDDY' });
    delete s.migration.policy;
    assert.equal((approve('UAPPROVER1', {}, s) as { code?: string }).code, 'not_buddy');
    assert.ok(approve('UBUDDY', {}, s).ok);
  });
});

describe('plan-time policy check', () => {
  const gated = [
    { kind: 'bulk_copy' as const, title: 'Copy the keys' },
    { kind: 'promote' as const, title: 'Promote' },
  ];
  const rows: [string, ApprovalPolicy, string, Identity | undefined, string | null][] = [
    ['buddy who is an approver', APPROVERS, 'UREQ', who('UAPPROVER1'), null],
    ['buddy in an approver group', APPROVERS, 'UREQ', who('USRE', ['SDBA']), null],
    ['buddy who is not an approver', APPROVERS, 'UREQ', who('UBUDDY'), 'buddy_not_approver'],
    ['no buddy, approvers configured', APPROVERS, 'UREQ', undefined, null],
    ['the requester as buddy', APPROVERS, 'UREQ', who('UREQ'), 'requester'],
    ['no approvers, a buddy', NOBODY, 'UREQ', who('UBUDDY'), null],
    ['no approvers, no buddy', NOBODY, 'UREQ', undefined, 'no_approvers'],
    ['no approvers, a buddy, quorum 2', quorum(2, NOBODY), 'UREQ', who('UBUDDY'), 'quorum_unreachable'],
    [
      'users only, quorum 3 but two approvers besides the requester',
      { ...quorum(3), approvers: { users: ['UAPPROVER1', 'UAPPROVER2', 'UREQ'], groups: [] } },
      'UREQ',
      undefined,
      'quorum_unreachable',
    ],
    [
      'users only, quorum 2 and two approvers besides the requester',
      { ...quorum(2), approvers: { users: ['UAPPROVER1', 'UAPPROVER2', 'UREQ'], groups: [] } },
      'UREQ',
      undefined,
      null,
    ],
  ];
  for (const [name, policy, requester, buddy, code] of rows) {
    it(`${name}: ${code ?? 'allowed'}`, () => {
      const res = checkPlanPolicy(policy, requester, buddy, gated);
      assert.equal(res?.code ?? null, code, res?.reason);
      if (res) assert.ok(res.reason.length > 20, 'says why');
    });
  }

  it('the buddy refusal names the buddy and what to do', () => {
    const res = checkPlanPolicy(APPROVERS, 'UREQ', who('UBUDDY'), gated);
    assert.match(
      res?.reason ?? '',
      /the buddy UBUDDY is not one of the configured approvers.*name an approver/,
    );
  });
});

describe('step states and other decisions', () => {
  it('says why a step in another state cannot be approved', () => {
    const s = setup();
    s.step.status = 'approved';
    s.step.approvedBy = [{ userId: 'UAPPROVER2', at: 'x' }];
    const res = approve('UAPPROVER1', {}, s);
    assert.equal(!res.ok && res.code, 'not_awaiting');
    assert.match(!res.ok ? res.reason : '', /already approved by UAPPROVER2/);
    s.step.status = 'pending';
    const pending = approve('UAPPROVER1', {}, s);
    assert.match(!pending.ok ? pending.reason : '', /not up for approval yet/);
    s.step.status = 'running';
    const running = approve('UAPPROVER1', {}, s);
    assert.match(!running.ok ? running.reason : '', /already running/);
  });

  it('refuses decisions on an aborted migration', () => {
    const s = setup(SETTINGS, { abort: { userId: 'UX', at: 'x' } });
    const res = approve('UAPPROVER1', {}, s);
    assert.equal(!res.ok && res.code, 'aborted');
  });

  it('rejection needs the same standing as approval', () => {
    const s = setup();
    const input = {
      migration: s.migration,
      step: s.step,
      stepHash: s.step.hash,
      nowMs: NOW,
    };
    const byRequester = decideRejection({ ...input, who: who('UREQ') });
    assert.equal(!byRequester.ok && byRequester.code, 'requester');
    assert.ok(decideRejection({ ...input, who: who('UAPPROVER1') }).ok);
  });
});

describe('confirmation and abort policy', () => {
  it('the requester may confirm an outside action; strangers may not; approvals are not confirmations', () => {
    const s = setup();
    s.step.gate = 'confirmation';
    delete s.step.approvalExpiresAt;
    const input = {
      migration: s.migration,
      step: s.step,
      stepHash: s.step.hash,
      nowMs: NOW,
    };
    assert.ok(decideConfirmation({ ...input, who: who('UREQ') }).ok);
    const stranger = decideConfirmation({ ...input, who: who('USTRANGER') });
    assert.equal(!stranger.ok && stranger.code, 'not_involved');
    const approval = decideApproval({ ...input, who: who('UAPPROVER1') });
    assert.equal(!approval.ok && approval.code, 'wrong_gate');
  });

  it('requester, buddy and approvers may abort; strangers may not; not twice', () => {
    const m = memoryMigration({ buddy: 'UBUDDY' });
    assert.equal(decideAbort(m, who('UREQ'))?.code ?? null, null);
    assert.equal(decideAbort(m, who('UBUDDY'))?.code ?? null, null);
    assert.equal(decideAbort(m, who('UAPPROVER1'))?.code ?? null, null);
    assert.equal(decideAbort(m, who('USTRANGER'))?.code, 'not_involved');
    m.abort = { userId: 'UREQ', at: 'x' };
    assert.match(decideAbort(m, who('UREQ'))?.reason ?? '', /already aborted by UREQ/);
  });

  it('requests (start, retry, ask again) come from someone involved, or the system; none after an abort', () => {
    const m = memoryMigration({ buddy: 'UBUDDY' });
    for (const userId of ['UREQ', 'UBUDDY', 'UAPPROVER1']) {
      assert.equal(checkRequest(m, who(userId), 'retry steps'), null, userId);
    }
    assert.equal(checkRequest(m, who('SOMEONE', ['SDBA']), 'retry steps'), null, 'an approver group member');
    const stranger = checkRequest(m, who('USTRANGER'), 'retry steps');
    assert.equal(stranger?.code, 'not_involved');
    assert.equal(stranger?.reason, 'only the requester, the buddy or an approver can retry steps');
    assert.equal(checkRequest(m, who('system'), 'ask for approvals', true), null, 'the system itself');
    m.abort = { userId: 'UBUDDY', at: 'x' };
    for (const [userId, bySystem] of [
      ['UREQ', false],
      ['system', true],
    ] as const) {
      const refusal = checkRequest(m, who(userId), 'start this migration', bySystem);
      assert.equal(refusal?.code, 'aborted', userId);
      assert.equal(refusal?.reason, 'this migration was aborted by UBUDDY');
    }
  });

  it('a failed or rejected migration can still be aborted (its cleanup runs); a succeeded one cannot', () => {
    for (const status of ['failed', 'rejected'] as const) {
      assert.equal(decideAbort(memoryMigration({ status }), who('UREQ')), null, status);
    }
    assert.equal(decideAbort(memoryMigration({ status: 'succeeded' }), who('UREQ'))?.code, 'finished');
  });
});
