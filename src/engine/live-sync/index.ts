export { type Copier, engineCopier, type KeySetResult } from './copier.js';
export { globMatch, globMatcher } from './glob.js';
export {
  type DrainReport,
  LiveSync,
  LiveSyncError,
  type LiveSyncOptions,
  type LiveSyncReport,
  type LiveSyncState,
  type LiveSyncStatus,
} from './live-sync.js';
export { checkNotifyFlags, NEEDED_CLASSES, parseNotifyFlags, withNeededFlags } from './notify-config.js';
export { deleteExtraKeys, reconcile } from './reconcile.js';
