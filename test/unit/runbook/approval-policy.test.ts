import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ApprovalSettings,
  decideAbort,
  decideApproval,
  decideConfirmation,
  decideRejection,
  type Identity,
  quorumFor,
} from '../../../src/runbook/approval-policy.js';
import { awaiting, memoryMigration, SETTINGS } from './fixtures.js';

const NOW = Date.parse('2026-01-01T10:00:00.000Z');
const who = (userId: string, groups: string[] = []): Identity => ({ userId, groups });

function setup(settings: ApprovalSettings = SETTINGS, overrides = {}) {
  const migration = memoryMigration(overrides);
  const step = awaiting(migration, 1, NOW - 1000);
  return { migration, step, settings };
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
    settings: s.settings,
  });
}

describe('approval policy', () => {
  it('refuses the requester, even when the requester is a configured approver', () => {
    const res = approve('UREQ');
    assert.equal(res.ok, false);
    assert.equal(!res.ok && res.code, 'requester');
    assert.equal(!res.ok && res.reason, 'you requested this migration; someone else must approve its steps');
  });

  it('accepts a configured approver and completes a quorum of one', () => {
    const res = approve('UAPPROVER1');
    assert.ok(res.ok);
    assert.equal(res.complete, true);
    assert.deepEqual(
      res.approvals.map((a) => a.userId),
      ['UAPPROVER1'],
    );
  });

  it('accepts a member of an approver group (groups resolved by the caller)', () => {
    const res = approve('USOMEONE', { groups: ['SDBA'] });
    assert.ok(res.ok && res.complete);
  });

  it('refuses people outside the approvers and groups they are not in', () => {
    const res = approve('USTRANGER', { groups: ['SOTHER'] });
    assert.equal(!res.ok && res.code, 'not_approver');
    assert.match(!res.ok ? res.reason : '', /not one of the configured approvers/);
  });

  it('with a named buddy, only the buddy may approve', () => {
    const s = setup(SETTINGS, { buddy: 'UBUDDY' });
    const other = approve('UAPPROVER1', {}, s);
    assert.equal(!other.ok && other.code, 'not_buddy');
    assert.match(!other.ok ? other.reason : '', /only the named buddy \(UBUDDY\)/);
    const buddy = approve('UBUDDY', {}, s);
    assert.ok(buddy.ok && buddy.complete);
  });

  it('refuses everyone when there is neither a buddy nor configured approvers', () => {
    const s = setup({ ...SETTINGS, approvers: { users: [], groups: [] } });
    const res = approve('UANY', {}, s);
    assert.equal(!res.ok && res.code, 'no_approvers');
    assert.match(!res.ok ? res.reason : '', /name a buddy or add approvers/);
  });

  it('refuses an approval of a different version of the step (stale hash)', () => {
    const res = approve('UAPPROVER1', { hash: 'f'.repeat(64) });
    assert.equal(!res.ok && res.code, 'stale_hash');
    assert.match(!res.ok ? res.reason : '', /changed since this request was made/);
  });

  it('refuses once the request has expired', () => {
    const s = setup();
    const expiresAt = Date.parse(s.step.approvalExpiresAt!);
    assert.ok(approve('UAPPROVER1', { nowMs: expiresAt - 1 }, s).ok);
    const res = approve('UAPPROVER1', { nowMs: expiresAt }, s);
    assert.equal(!res.ok && res.code, 'expired');
    assert.match(!res.ok ? res.reason : '', /expired at .*ask for it again/);
  });

  it('a quorum of 2 needs two distinct approvers', () => {
    const settings = { ...SETTINGS, quorum: { bulk_copy: 2 } };
    const s = setup(settings);
    s.step.quorum = quorumFor(s.step, undefined, settings);
    assert.equal(s.step.quorum, 2);
    const first = approve('UAPPROVER1', {}, s);
    assert.ok(first.ok);
    assert.equal(first.complete, false);
    assert.equal(first.needed, 1);
    s.step.approvals = first.approvals;
    const again = approve('UAPPROVER1', {}, s);
    assert.equal(!again.ok && again.code, 'duplicate');
    assert.match(!again.ok ? again.reason : '', /needs 1 more approval from other people/);
    const second = approve('UAPPROVER2', {}, s);
    assert.ok(second.ok && second.complete);
    assert.deepEqual(
      second.approvals.map((a) => a.userId),
      ['UAPPROVER1', 'UAPPROVER2'],
    );
  });

  it('approvals of an older hash do not count towards the quorum', () => {
    const settings = { ...SETTINGS, quorum: { bulk_copy: 2 } };
    const s = setup(settings);
    s.step.quorum = 2;
    s.step.approvals = [{ userId: 'UAPPROVER1', at: 'x', stepHash: 'old' }];
    const res = approve('UAPPROVER2', {}, s);
    assert.ok(res.ok);
    assert.equal(res.complete, false);
  });

  it('a named buddy is the single approver whatever the quorum setting', () => {
    assert.equal(quorumFor({ kind: 'promote' }, 'UBUDDY', { ...SETTINGS, quorum: { promote: 3 } }), 1);
    assert.equal(quorumFor({ kind: 'promote' }, undefined, { ...SETTINGS, quorum: { promote: 3 } }), 3);
    assert.equal(quorumFor({ kind: 'verify' }, undefined, SETTINGS), 1);
  });

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
      settings: SETTINGS,
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
      settings: SETTINGS,
    };
    assert.ok(decideConfirmation({ ...input, who: who('UREQ') }).ok);
    const stranger = decideConfirmation({ ...input, who: who('USTRANGER') });
    assert.equal(!stranger.ok && stranger.code, 'not_involved');
    const approval = decideApproval({ ...input, who: who('UAPPROVER1') });
    assert.equal(!approval.ok && approval.code, 'wrong_gate');
  });

  it('requester, buddy and approvers may abort; strangers may not; not twice', () => {
    const m = memoryMigration({ buddy: 'UBUDDY' });
    assert.equal(decideAbort(m, who('UREQ'), SETTINGS), null);
    assert.equal(decideAbort(m, who('UBUDDY'), SETTINGS), null);
    assert.equal(decideAbort(m, who('UAPPROVER1'), SETTINGS), null);
    assert.equal(decideAbort(m, who('USTRANGER'), SETTINGS)?.code, 'not_involved');
    m.abort = { userId: 'UREQ', at: 'x' };
    assert.match(decideAbort(m, who('UREQ'), SETTINGS)?.reason ?? '', /already aborted by UREQ/);
  });

  it('a failed or rejected migration can still be aborted (its cleanup runs); a succeeded one cannot', () => {
    for (const status of ['failed', 'rejected'] as const) {
      assert.equal(decideAbort(memoryMigration({ status }), who('UREQ'), SETTINGS), null, status);
    }
    assert.equal(
      decideAbort(memoryMigration({ status: 'succeeded' }), who('UREQ'), SETTINGS)?.code,
      'finished',
    );
  });
});
