// What a metrics scrape reads from the control Redis through the runtime: migrations by state,
// BullMQ job counts of the step and follower queues (the sweeper's schedule is not work to watch), and the followers (live sync, write pause) of active client-side copies.
import { FOLLOWERS_QUEUE } from '../jobs/followers.js';
import { STEPS_QUEUE } from '../jobs/queue.js';
import type { Runtime } from '../jobs/runtime.js';
import { isFresh, TERMINAL_FOLLOWER_STATES } from '../strategies/live-phase/index.js';
import type { ControlSnapshot, ControlSource } from './metrics.js';

const JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'failed',
  'completed',
] as const;
/** Finished migrations counted besides the active ones (a scrape stays cheap). */
const RECENT = 200;

export function controlSource(rt: Runtime): ControlSource {
  return {
    async snapshot(): Promise<ControlSnapshot> {
      const [recent, active] = await Promise.all([
        rt.store.list({ limit: RECENT }),
        rt.store.list({ activeOnly: true }),
      ]);
      const byId = new Map([...recent, ...active].map((m) => [m.id, m]));
      const migrationsByState: Record<string, number> = {};
      for (const m of byId.values()) migrationsByState[m.status] = (migrationsByState[m.status] ?? 0) + 1;

      const queues = { [STEPS_QUEUE]: rt.queue.queue, [FOLLOWERS_QUEUE]: rt.followers.queue };
      const queueJobs: ControlSnapshot['queueJobs'] = {};
      for (const [name, queue] of Object.entries(queues)) {
        queueJobs[name] = (await queue.getJobCounts(...JOB_STATES)) as Record<string, number>;
      }

      const followers: ControlSnapshot['followers'] = [];
      for (const m of active) {
        if (m.plan.strategy === 'replication') continue;
        const rec = await rt.livePhase.store.read(m.id);
        const s = rec.status;
        if (!s || !isFresh(rec, rt.livePhase.timing) || TERMINAL_FOLLOWER_STATES.has(s.state)) continue;
        followers.push({ migrationId: m.id, lagMs: s.lagMs, pendingKeys: s.pendingKeys, paused: s.paused });
      }
      return { migrationsByState, queueJobs, followers };
    },
  };
}
