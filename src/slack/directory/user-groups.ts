// Slack user groups as the runbook's ApproverDirectory (and for `slack.requesters.groups`):
// members are read with usergroups.users.list (Tier 2, ~20/min) at decision time and cached
// briefly, so a burst of clicks costs one call per group. Concurrent lookups of one group share a
// call; when Slack fails, a recent answer is used rather than refusing everyone.
import type { webApi } from '@slack/bolt';
import type { ApproverDirectory } from '../../runbook/service.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';

export interface DirectoryOptions {
  /** How long a group's members are trusted without asking again (default 60 s). */
  ttlMs?: number;
  /** How long a cached answer may still be used when Slack cannot be reached (default 10 min). */
  staleMs?: number;
  logger?: Logger;
  now?: () => number;
}

interface Entry {
  members: readonly string[];
  at: number;
}

const GROUP_ID = /^S[A-Z0-9]+$/;

export class SlackUserGroupDirectory implements ApproverDirectory {
  private readonly cache = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<readonly string[]>>();
  private readonly ttlMs: number;
  private readonly staleMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: Pick<webApi.WebClient, 'usergroups'>,
    private readonly options: DirectoryOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.staleMs = options.staleMs ?? 600_000;
    this.now = options.now ?? Date.now;
  }

  async membersOf(groupId: string): Promise<readonly string[]> {
    if (!GROUP_ID.test(groupId)) return [];
    const cached = this.cache.get(groupId);
    if (cached && this.now() - cached.at < this.ttlMs) return cached.members;
    const inFlight = this.pending.get(groupId);
    if (inFlight) return inFlight;
    const lookup = this.fetch(groupId, cached).finally(() => this.pending.delete(groupId));
    this.pending.set(groupId, lookup);
    return lookup;
  }

  /** Whether `userId` is in any of `groups`. */
  async inAny(userId: string, groups: readonly string[]): Promise<boolean> {
    for (const group of groups) {
      try {
        if ((await this.membersOf(group)).includes(userId)) return true;
      } catch (err) {
        this.options.logger?.warn({ group, error: errorMessage(err) }, 'could not read a user group');
      }
    }
    return false;
  }

  private async fetch(groupId: string, cached: Entry | undefined): Promise<readonly string[]> {
    try {
      const res = await this.client.usergroups.users.list({ usergroup: groupId });
      const members = Object.freeze([...(res.users ?? [])]);
      this.cache.set(groupId, { members, at: this.now() });
      return members;
    } catch (err) {
      if (cached && this.now() - cached.at < this.staleMs) {
        this.options.logger?.warn(
          { group: groupId, error: errorMessage(err) },
          'usergroups.users.list failed; using the members read earlier',
        );
        return cached.members;
      }
      throw err;
    }
  }
}
