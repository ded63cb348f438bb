// How a client-side copy (dump-restore, and MIGRATE's change tracking and pause) can run on these
// two servers: DUMP payloads or type-by-type writes, how changes made during the copy are
// followed, and whether the source's writes can be paused at cutover.
import { isAvailable, type PlanContext, unavailable } from './context.js';
import { flagsForLiveSync, notificationGaps, notificationsSufficient } from './notifications.js';
import { rdbRefusal } from './versions.js';

export type LiveSyncMode =
  /** notify-keyspace-events already covers what live sync needs. */
  | 'notifications'
  /** Live sync sets notify-keyspace-events on the source (CONFIG SET) and restores it afterwards. */
  | 'enable-notifications'
  /** No change capture: the cutover pauses writes first and then copies. */
  | 'none';

export interface CopyPath {
  copyMode: 'dump' | 'by-type';
  /** Why the copy goes type by type (empty for DUMP payloads). */
  byTypeBecause: string[];
  liveSync: LiveSyncMode;
  /** Why live sync is not possible as things stand (empty when it is). */
  liveSyncBlockedBy: string[];
  /** Source notify-keyspace-events now (null: unreadable) and what live sync sets it to. */
  notifications: { current: string | null; setTo: string | null };
  /** CLIENT PAUSE WRITE on the source, or a person stops the apps' writes (maintenance mode). */
  writePause: 'client-pause' | 'manual';
}

export function copyPath(ctx: PlanContext): CopyPath {
  const { source, target, options } = ctx;
  const byTypeBecause: string[] = [];
  if (options.byType) byTypeBecause.push('--by-type was asked');
  const refusal = rdbRefusal(source.server, target.server);
  if (refusal) byTypeBecause.push(`${refusal}: RESTORE rejects the source's DUMP payloads`);
  const noDump = unavailable(ctx, 'source', 'DUMP');
  if (noDump) byTypeBecause.push(noDump);
  const noRestore = unavailable(ctx, 'target', 'RESTORE');
  if (noRestore) byTypeBecause.push(noRestore);

  const current = source.notifyKeyspaceEvents;
  const liveSyncBlockedBy: string[] = [];
  let liveSync: LiveSyncMode;
  let setTo: string | null = null;
  const noPsubscribe = unavailable(ctx, 'source', 'PSUBSCRIBE');
  if (current !== null && notificationsSufficient(current)) {
    liveSync = 'notifications';
  } else if (isAvailable(ctx, 'source', 'CONFIG SET')) {
    liveSync = 'enable-notifications';
    setTo = flagsForLiveSync(current ?? '');
  } else {
    liveSync = 'none';
    liveSyncBlockedBy.push(
      `${describeNotifications(current)} and ${unavailable(ctx, 'source', 'CONFIG SET')}`,
    );
  }
  if (noPsubscribe) {
    liveSync = 'none';
    setTo = null;
    liveSyncBlockedBy.push(noPsubscribe);
  }
  return {
    copyMode: byTypeBecause.length > 0 ? 'by-type' : 'dump',
    byTypeBecause,
    liveSync,
    liveSyncBlockedBy,
    notifications: { current, setTo },
    writePause: isAvailable(ctx, 'source', 'CLIENT PAUSE') ? 'client-pause' : 'manual',
  };
}

function describeNotifications(current: string | null): string {
  if (current === null) return 'source notify-keyspace-events could not be read';
  if (current === '') return 'keyspace notifications are off on the source';
  const gaps = notificationGaps(current);
  const missing = [...(gaps.noChannel ? ['K or E'] : []), ...gaps.missingClasses];
  return `source notify-keyspace-events is "${current}", missing ${missing.join(', ')}`;
}
