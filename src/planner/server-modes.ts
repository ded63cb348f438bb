// Server modes that rule strategies out: every strategy's assessment starts from these.
import type { PlanContext } from './context.js';
import { clusterReasons } from './topology.js';
import type { StrategyName } from './types.js';

/** Why a Sentinel endpoint, or a cluster on either side (./topology.ts), rules this strategy out. */
export function modeReasons(ctx: PlanContext, strategy: StrategyName): string[] {
  const out: string[] = [];
  for (const side of ['source', 'target'] as const) {
    if (ctx[side].server.mode === 'sentinel') out.push(`${side} is a Sentinel, not a data server`);
  }
  return [...out, ...clusterReasons(ctx, strategy)];
}
