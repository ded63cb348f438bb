export { LiveSyncAcross, type LiveSyncAcrossOptions } from './across/live-sync-across.js';
export { type Copier, engineCopier, type KeySetResult } from './copier.js';
export { globMatch, globMatcher } from './glob.js';
export { LiveSync } from './live-sync.js';
export { LiveSyncError } from './live-sync-error.js';
export { checkNotifyFlags, NEEDED_CLASSES, parseNotifyFlags, withNeededFlags } from './notify-config.js';
export type { LiveSyncOptions } from './options.js';
export { deleteExtraKeys, reconcile } from './reconcile.js';
export type { DrainReport, LiveSyncReport, LiveSyncState, LiveSyncStatus } from './status.js';
