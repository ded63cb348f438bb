// Warnings about how the cutover can run: change capture, write pauses, reachability, drains.

import { isAvailable, unavailable } from '../context.js';
import { flagsForLiveSync, notificationGaps } from '../notifications.js';
import type { Finding } from '../types.js';
import { formatDuration } from '../units.js';
import type { WarningInput } from './input.js';

export function cutoverWarnings(input: WarningInput): Finding[] {
  const { ctx, path, strategy, replicationOutForSubsetOnly } = input;
  const out: Finding[] = [];
  const { source, target, options } = ctx;
  if (replicationOutForSubsetOnly && strategy !== 'replication') {
    out.push({
      code: 'subset-rules-out-replication',
      message:
        'replication would be possible but copies everything, so --match/--db (or a database in the URLs) ' +
        'rule it out; drop them to use replication, the native and complete path',
    });
  }
  if (source.replication.role === 'replica') {
    const master = source.replication.masterHost
      ? `${source.replication.masterHost}:${source.replication.masterPort ?? 6379}`
      : 'another server';
    out.push({
      code: 'source-is-replica',
      message:
        `the source is a replica of ${master}: apps write to that master, so pausing or draining this replica ` +
        'does not stop their writes; stop writes at the master for the cutover',
    });
  }
  if (strategy === 'replication') out.push(...replicationWarnings(input));
  if (input.copiesKeys) {
    if (path.liveSync === 'none') {
      const setting = `notify-keyspace-events ${flagsForLiveSync(path.notifications.current ?? '')}`;
      out.push({
        code: 'live-sync-unavailable',
        message:
          `live sync is not possible: ${path.liveSyncBlockedBy.join('; ')}. Enable ${setting} on the source ` +
          "(through the provider's parameter group when CONFIG is blocked) and plan again; until then the " +
          (strategy === 'migrate'
            ? `final pass during the write pause copies every key again, so writes stay paused for about ${formatDuration(ctx.copySeconds)}`
            : `cutover pauses writes first and then copies, so writes stay paused for the whole copy (about ${formatDuration(ctx.copySeconds)})`),
      });
    } else if (path.liveSync === 'notifications' && path.notifications.current !== null) {
      if (notificationGaps(path.notifications.current).missingOptional.includes('t')) {
        out.push({
          code: 'live-sync-no-streams',
          message:
            `source notify-keyspace-events "${path.notifications.current}" lacks t: changes to streams are not ` +
            'followed live (add t, or "A", if the source has streams)',
        });
      }
    } else if (path.liveSync === 'enable-notifications') {
      out.push({
        code: 'live-sync-enables-notifications',
        message:
          `live sync sets notify-keyspace-events to "${path.notifications.setTo}" on the source ` +
          `(now ${path.notifications.current === null ? 'unknown' : `"${path.notifications.current}"`}) for the ` +
          'migration and restores it afterwards; notifications cost the source some CPU',
      });
    }
  }
  if ((input.copiesKeys || strategy === 'psync') && path.writePause === 'manual') {
    out.push({
      code: 'no-write-pause',
      message:
        `${unavailable(ctx, 'source', 'CLIENT PAUSE')}: the cutover cannot pause writes; stop the apps' writes ` +
        'yourself (maintenance mode) and confirm at the write-pause step',
    });
  }
  if (strategy === 'migrate') {
    if (options.sourceCanReachTarget === undefined) {
      out.push({
        code: 'migrate-reachability-unverified',
        message:
          'MIGRATE makes the source server connect to the target itself; whether it can is unverified ' +
          '(the preflight migrates a canary key to find out)',
      });
    }
    if (/^rediss:/i.test(target.endpoint.redactedUrl)) {
      out.push({
        code: 'migrate-tls',
        message: 'the target uses TLS: MIGRATE connects over TLS only when the source has tls-cluster yes',
      });
    }
  }
  return out;
}

function replicationWarnings({ ctx }: WarningInput): Finding[] {
  const out: Finding[] = [];
  if (ctx.options.targetCanReachSource === undefined) {
    out.push({
      code: 'replication-reachability-unverified',
      message:
        'the target connects to the source itself as a replica; whether it can is unverified ' +
        '(wait_sync reports a link that stays down)',
    });
  }
  if (/^rediss:/i.test(ctx.source.endpoint.redactedUrl)) {
    out.push({
      code: 'replication-tls',
      message:
        "the source uses TLS: the target needs tls-replication yes and must trust the source's certificate",
    });
  }
  out.push({
    code: 'replication-full-sync',
    message:
      'the initial sync forks the source (BGSAVE): under heavy writes copy-on-write can need up to its used ' +
      'memory again, and a too-small replica output buffer makes the sync restart in a loop',
  });
  if (!isAvailable(ctx, 'source', 'CLIENT LIST')) {
    out.push({
      code: 'drain-check-manual',
      message: `${unavailable(ctx, 'source', 'CLIENT LIST')}: the drain check cannot list clients, so a person confirms the apps left`,
    });
  }
  return out;
}
