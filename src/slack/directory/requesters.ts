// Who may plan migrations from Slack: `slack.requesters` (users and user groups) in the config.
// Without that section, or with both lists empty, anyone in an allowed channel may. Approvals are
// not decided here: the runbook's approval policy does that, with the same directory.
import type { Config } from '../../config/load.js';
import { SlackRefusal } from '../errors.js';

export interface GroupMembership {
  inAny(userId: string, groups: readonly string[]): Promise<boolean>;
}

export class RequesterAccess {
  private readonly users: readonly string[];
  private readonly groups: readonly string[];

  constructor(
    config: Pick<Config, 'slack'>,
    private readonly directory: GroupMembership,
  ) {
    this.users = config.slack?.requesters?.users ?? [];
    this.groups = config.slack?.requesters?.groups ?? [];
  }

  get restricted(): boolean {
    return this.users.length > 0 || this.groups.length > 0;
  }

  async mayRequest(userId: string): Promise<boolean> {
    if (!this.restricted) return true;
    if (this.users.includes(userId)) return true;
    return this.directory.inAny(userId, this.groups);
  }

  /** Throws a refusal naming who may, when `userId` may not. */
  async assertMayRequest(userId: string, what = 'plan migrations'): Promise<void> {
    if (await this.mayRequest(userId)) return;
    throw new SlackRefusal(
      `You are not one of the people who may ${what} here (slack.requesters in the config).`,
      `Ask one of ${this.describe()}, or an admin to add you.`,
    );
  }

  /** The requesters as mentions, for messages (Slack renders them; nothing secret in ids). */
  describe(): string {
    const shown = [...this.users.map((u) => `<@${u}>`), ...this.groups.map((g) => `<!subteam^${g}>`)];
    return shown.length > 6
      ? `${shown.slice(0, 6).join(', ')} and ${shown.length - 6} more`
      : shown.join(', ');
  }
}
