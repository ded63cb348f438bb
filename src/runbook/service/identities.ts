// Who a person is to the approval policy: their user id and the approver groups they belong to,
// asked of the directory each time they act (the directory decides how long it may cache).
import type { Logger } from '../../util/logger.js';
import { type Identity, policyOf } from '../approval-policy.js';
import type { MigrationStore } from '../store.js';

/** Resolves approver groups (e.g. Slack user groups) to their members. */
export interface ApproverDirectory {
  membersOf(groupId: string): Promise<readonly string[]>;
}

export class ApproverIdentities {
  constructor(
    private readonly store: MigrationStore,
    /** The config's approver groups: what a new migration's policy will name. */
    private readonly configuredGroups: readonly string[],
    private readonly directory: ApproverDirectory | undefined,
    private readonly logger: Logger | undefined,
  ) {}

  /**
   * The approver groups among `configured` (by default the config's) that `userId` belongs to.
   * A group that cannot be resolved counts as not a member (and is logged).
   */
  async identify(userId: string, configured: readonly string[] = this.configuredGroups): Promise<Identity> {
    const groups: string[] = [];
    if (configured.length > 0 && !this.directory) {
      this.logger?.warn('approver groups are configured but no directory resolves them');
    }
    if (this.directory) {
      for (const group of configured) {
        try {
          if ((await this.directory.membersOf(group)).includes(userId)) groups.push(group);
        } catch (err) {
          this.logger?.warn({ group, err: String(err) }, 'could not resolve approver group');
        }
      }
    }
    return { userId, groups };
  }

  /**
   * `userId` with the groups of migration `id`'s own approval policy: decisions on a migration
   * follow the policy fixed when it was created, whatever this process's config says now.
   */
  async forMigration(id: string, userId: string): Promise<Identity> {
    const m = await this.store.get(id);
    return this.identify(userId, m ? policyOf(m).approvers.groups : []);
  }
}
