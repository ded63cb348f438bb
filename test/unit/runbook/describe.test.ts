import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApprovalPolicy } from '../../../src/runbook/approval-policy.js';
import { gateRule, policySummary } from '../../../src/runbook/describe.js';

const APPROVERS: ApprovalPolicy = {
  approvers: { users: ['UA', 'UB'], groups: ['SDBA'] },
  expiresAfterMs: 3_600_000,
  quorum: { bulk_copy: 2, promote: 3 },
};
const NOBODY: ApprovalPolicy = { ...APPROVERS, approvers: { users: [], groups: [] }, quorum: {} };
const copy = { kind: 'bulk_copy' as const, needsApproval: true };

describe('who may approve, as plans show it', () => {
  const rows: [string, Parameters<typeof gateRule>, string | undefined][] = [
    ['an ungated step', [{ kind: 'verify', needsApproval: false }, APPROVERS, 'UA'], undefined],
    [
      'quorum 1, no buddy',
      [{ kind: 'verify', needsApproval: true }, APPROVERS, undefined],
      'one approval, by an approver',
    ],
    [
      'quorum 1, a buddy',
      [{ kind: 'verify', needsApproval: true }, APPROVERS, 'UA'],
      'one approval, by the buddy (UA)',
    ],
    ['quorum 2, no buddy', [copy, APPROVERS, undefined], '2 approvals, by 2 different approvers'],
    ['quorum 2, a buddy', [copy, APPROVERS, 'UA'], '2 approvals, by the buddy (UA) and another approver'],
    [
      'quorum 3, a buddy',
      [{ kind: 'promote', needsApproval: true }, APPROVERS, 'UA'],
      '3 approvals, by the buddy (UA) and 2 other approvers',
    ],
    ['no approvers, a buddy', [copy, NOBODY, 'UX'], 'one approval, by the buddy UX'],
    ['no approvers, no buddy yet', [copy, NOBODY, undefined], 'one approval, by the buddy (none named yet)'],
  ];
  for (const [name, args, text] of rows) {
    it(name, () => assert.equal(gateRule(...args), text));
  }

  it('the policy in one sentence, the weaker mode said as such', () => {
    assert.equal(
      policySummary(APPROVERS, 'UA'),
      "Approvers: users UA, UB; groups SDBA; the buddy UA is one of every step's approvals; quorum: " +
        'bulk_copy 2, promote 3 (others 1); the requester never approves; requests expire after 1 h.',
    );
    assert.match(
      policySummary(NOBODY, 'UX'),
      /^No approvers configured: only the named buddy \(UX\) may approve \(the weaker mode/,
    );
  });
});
