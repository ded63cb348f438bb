import type { ConfigFile } from '../config/schema.js';
import { type ApprovalSettings, DEFAULT_APPROVAL_EXPIRY_MS } from './approval-policy.js';

/** Approval settings from the config file's `approvers` and `approvals` sections. */
export function approvalSettingsFromConfig(
  config: Pick<ConfigFile, 'approvers' | 'approvals'> | undefined,
): ApprovalSettings {
  return {
    approvers: { users: config?.approvers?.users ?? [], groups: config?.approvers?.groups ?? [] },
    expiresAfterMs: config?.approvals?.expiresAfter ?? DEFAULT_APPROVAL_EXPIRY_MS,
    quorum: config?.approvals?.quorum ?? {},
  };
}
