// Server modes no strategy can work with yet: every strategy's assessment starts from these.
import type { PlanContext } from './context.js';

/** Why a cluster or a Sentinel endpoint rules a strategy out. */
export function modeReasons(ctx: PlanContext): string[] {
  const out: string[] = [];
  for (const side of ['source', 'target'] as const) {
    const mode = ctx[side].server.mode;
    if (mode === 'cluster') out.push(`${side} is in cluster mode, which is not supported yet`);
    else if (mode === 'sentinel') out.push(`${side} is a Sentinel, not a data server`);
  }
  return out;
}
