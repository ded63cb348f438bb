// notify-keyspace-events on the source, which live sync needs. When the plan lets migration-buddy
// set it, the follower turns the needed classes on itself and records the value it found first
// (once per migration, in the control Redis), so whichever follower ends the live phase, or the
// abort's cleanup when none is left, can put it back.

import type { Redis } from 'ioredis';
import { checkNotifyFlags, withNeededFlags } from '../../engine/live-sync/index.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import type { FollowerChannel } from './types.js';

/** Sets notify-keyspace-events back to `original`; true when it had to change it. */
export async function restoreNotifyKeyspaceEvents(admin: Redis, original: string): Promise<boolean> {
  const reply = (await admin.config('GET', 'notify-keyspace-events')) as string[];
  if (reply[1] === original) return false;
  await admin.config('SET', 'notify-keyspace-events', original);
  return true;
}

export interface NotifySettingOptions {
  channel: Pick<FollowerChannel, 'notifyOriginal' | 'rememberNotifyOriginal'>;
  migrationId: string;
  /** The plan lets migration-buddy change the setting; otherwise this does nothing. */
  setConfig: boolean;
  /** A setting that could not be put back: the holder reports it. */
  warn: (message: string) => void;
  logger: Logger;
}

export class NotifySetting {
  /** The value before this migration changed it, as last read: the control Redis can lose its record. */
  private originalSeen: string | undefined;

  constructor(private readonly options: NotifySettingOptions) {}

  /** Reads the recorded original, if an earlier follower of this migration changed the setting. */
  async load(): Promise<void> {
    this.originalSeen = await this.options.channel.notifyOriginal(this.options.migrationId);
  }

  /** The value it puts back, when this migration changed it (as far as this follower knows). */
  get original(): string | undefined {
    return this.options.setConfig ? this.originalSeen : undefined;
  }

  /** Turns on the classes live sync needs, recording the value found first. */
  async ensure(admin: Redis): Promise<void> {
    if (!this.options.setConfig) return;
    const reply = (await admin.config('GET', 'notify-keyspace-events')) as string[];
    const value = reply[1] ?? '';
    if (checkNotifyFlags(value).ok) return;
    this.originalSeen = await this.options.channel.rememberNotifyOriginal(this.options.migrationId, value);
    await admin.config('SET', 'notify-keyspace-events', withNeededFlags(value));
    this.options.logger.warn({ before: value }, 'turned keyspace notifications on for live sync');
  }

  /**
   * Puts the setting back, if a follower of this migration changed it. `controlLost`: the control
   * Redis lost the record, so the copy read earlier is all there is.
   */
  async restore(admin: Redis, controlLost: boolean): Promise<void> {
    if (!this.options.setConfig) return;
    // Recorded before the first CONFIG SET: no record, no change of ours to undo.
    const original = controlLost
      ? this.originalSeen
      : ((await this.options.channel.notifyOriginal(this.options.migrationId)) ?? this.originalSeen);
    if (original === undefined) return;
    try {
      await restoreNotifyKeyspaceEvents(admin, original);
    } catch (err) {
      this.options.warn(
        `could not restore notify-keyspace-events to "${original}" (${errorMessage(err)}); set it back by hand`,
      );
    }
  }
}
