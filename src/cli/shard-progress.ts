// `migrate`'s progress of a step run as one job per cluster shard: the totals and a part per
// shard (node, state, keys, worker), one line on stderr at a bounded rate and whenever a shard
// finishes.
import type { ProgressUpdate } from '../runbook/model.js';
import { shardLabel } from '../runbook/progress.js';

/** Shards named on the line; the rest are counted. */
const SHARDS_SHOWN = 8;
const count = (n: number) => n.toLocaleString('en-US');

export function shardProgressLine(u: ProgressUpdate): string | undefined {
  const shards = u.shards;
  if (!shards?.length) return undefined;
  const done = shards.filter((s) => s.state === 'done').length;
  const keys =
    u.keysTotal !== undefined && u.keysTotal > 0
      ? `${count(u.keysDone ?? 0)} / ${count(u.keysTotal)} keys`
      : `${count(u.keysDone ?? 0)} keys`;
  const rate = u.keysPerSecond !== undefined ? `, ${count(u.keysPerSecond)} keys/s` : '';
  const parts = shards
    .slice(0, SHARDS_SHOWN)
    .map(
      (s) =>
        `${shardLabel(s)} ${s.state} ${count(s.keysDone)}${s.keysTotal ? `/${count(s.keysTotal)}` : ''}${s.worker ? ` [${s.worker}]` : ''}`,
    );
  if (shards.length > SHARDS_SHOWN) parts.push(`and ${shards.length - SHARDS_SHOWN} more`);
  return `${u.stepId}: ${keys}${rate}, ${done} of ${shards.length} shards done · ${parts.join(' · ')}`;
}

/** Passes on a step's update at most every `intervalMs`, and at once when a shard finished. */
export function shardProgressPrinter(print: (u: ProgressUpdate) => void, intervalMs = 2000) {
  const last = new Map<string, { at: number; done: number }>();
  return (u: ProgressUpdate) => {
    if (!u.shards?.length) return;
    const done = u.shards.filter((s) => s.state === 'done' || s.state === 'failed').length;
    const prev = last.get(u.stepId);
    const now = Date.now();
    if (prev && prev.done === done && now - prev.at < intervalMs) return;
    last.set(u.stepId, { at: now, done });
    print(u);
  };
}
