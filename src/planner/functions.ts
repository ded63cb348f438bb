// Function libraries on the target (Redis 7+). They live outside the keyspace, so a target with
// no keys can still hold them; what the copy does with them follows the non-empty-target policy
// (engine/copy/functions.ts), and replication replaces them with the source's on its full sync.
// One place for the rule, so the plan says what the copy will do.
import { isAvailable, type PlanContext } from './context.js';
import type { StrategyName } from './types.js';
import { plural } from './units.js';

/** Libraries on the target (0 when it has no functions or they could not be listed). */
export function targetLibraries(ctx: PlanContext): number {
  return ctx.target.functionLibraries ?? 0;
}

export function librariesText(n: number): string {
  return plural(n, 'function library', 'function libraries');
}

/**
 * FUNCTION RESTORE policy for the copy, or null when it has nothing to do (or no way to do it):
 * the source's libraries to copy, or (--flush-target) the target's to delete.
 */
export function functionsPolicy(ctx: PlanContext): 'APPEND' | 'REPLACE' | 'FLUSH' | null {
  if (ctx.target.functionLibraries === null) return null;
  const policy = ({ refuse: 'APPEND', replace: 'REPLACE', flush: 'FLUSH' } as const)[
    ctx.options.onNonEmptyTarget
  ];
  const sourceLibs = ctx.source.functionLibraries ?? 0;
  // FUNCTION RESTORE's availability stands for the FUNCTION commands on the target (ACLs allow
  // them as a group in practice); with none to copy, only a flush has work to do.
  if (!isAvailable(ctx, 'target', 'FUNCTION RESTORE')) return null;
  if (sourceLibs === 0) return policy === 'FLUSH' && targetLibraries(ctx) > 0 ? 'FLUSH' : null;
  if (!isAvailable(ctx, 'source', 'FUNCTION DUMP')) return null;
  return policy;
}

/** What --replace / --flush-target do with the target's libraries, in words, for the plan. */
export function targetLibrariesFate(ctx: PlanContext, strategy: StrategyName | null): string | null {
  const libs = targetLibraries(ctx);
  if (libs === 0) return null;
  const held = `the target holds ${librariesText(libs)}`;
  const fromSource = librariesText(ctx.source.functionLibraries ?? 0);
  if (strategy === 'replication')
    return `${held}: replication replaces them with the source's (${fromSource})`;
  switch (ctx.options.onNonEmptyTarget) {
    case 'refuse':
      return null; // a blocker says it
    case 'replace':
      return `--replace: ${held}; those named like one of the source's (${fromSource}) are overwritten, the others stay`;
    case 'flush':
      return functionsPolicy(ctx) === 'FLUSH'
        ? `--flush-target: ${held}; they are deleted and the target ends with exactly the source's (${fromSource})`
        : `--flush-target: ${held}, which stay: FUNCTION RESTORE is not available on the target (delete them yourself if they must go)`;
  }
}
