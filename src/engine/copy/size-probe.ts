// Whether to ask MEMORY USAGE for every key before DUMPing it.
//
// The probe keeps a huge key from being DUMPed whole: the source would build the payload and a
// reply of the same size (about twice the key, counted towards maxmemory, so it can evict or
// refuse writes) and stall while serializing it. It costs one command per key, which measured
// here as 10-25% of the copy's throughput (npm run bench, 1M keys, same runs: 87-133k keys/s
// with it, 109-149k without).
// So 'auto' probes only when such a spike could hurt: no key is bigger than the source's used
// memory, so when maxmemory leaves room for twice that, no DUMP can push the source over it.
// Without a maxmemory the room left is unknown (the host's or container's limit): probe.
// Either way the copier's own memory stays bounded: replies of unmeasured keys are read under a
// byte cap, and a payload over it is drained, measured and copied again (or in chunks).

import { parseInfo, parseMemory } from '../../probe/info.js';
import type { RespConnection } from '../resp/connection.js';
import { replyText } from '../resp/reply.js';

export type SizeProbeSetting = 'auto' | 'always';

export interface MemoryFacts {
  /** INFO memory used_memory, bytes. */
  usedMemory?: number;
  /** INFO memory maxmemory (0 = no limit), bytes. */
  maxMemory?: number;
}

export interface SizeProbeDecision {
  perKey: boolean;
  reason: string;
}

/** `side` names the server in the reason ('source', or 'target' when verify asks about it). */
export function decideSizeProbe(
  setting: SizeProbeSetting,
  memory: MemoryFacts,
  side: 'source' | 'target' = 'source',
): SizeProbeDecision {
  if (setting === 'always') return { perKey: true, reason: 'asked for (--size-probe)' };
  const { usedMemory, maxMemory } = memory;
  if (usedMemory === undefined || maxMemory === undefined) {
    return { perKey: true, reason: `the ${side}'s memory figures are not readable (INFO memory)` };
  }
  if (maxMemory === 0) {
    return { perKey: true, reason: `the ${side} has no maxmemory, so its free memory is unknown` };
  }
  const headroom = maxMemory - usedMemory;
  const figures = `maxmemory ${mib(maxMemory)}, used ${mib(usedMemory)}`;
  if (headroom >= 2 * usedMemory) {
    return { perKey: false, reason: `no DUMP can exceed the ${side}'s free memory (${figures})` };
  }
  return {
    perKey: true,
    reason: `the ${side}'s free memory is under twice its used memory (${figures})`,
  };
}

/**
 * What a report says about the probe: the decision, unless the probe was meant to run and the
 * source refused MEMORY USAGE (the run then went on without it).
 */
export function probeOutcome(decision: SizeProbeDecision, stillOn: boolean): SizeProbeDecision {
  if (stillOn || !decision.perKey) return { perKey: stillOn, reason: decision.reason };
  return { perKey: false, reason: 'the source refused MEMORY USAGE' };
}

function mib(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MiB`;
}

/** used_memory and maxmemory from INFO memory; fields the server does not give are left out. */
export async function readMemoryFacts(conn: RespConnection): Promise<MemoryFacts> {
  const [reply] = await conn.exec([['INFO', 'memory']]);
  const info = parseInfo(replyText(reply ?? null) ?? '');
  if (info['memory']?.['used_memory'] === undefined) return {};
  const { usedBytes, maxmemoryBytes } = parseMemory(info);
  return maxmemoryBytes === null
    ? { usedMemory: usedBytes }
    : { usedMemory: usedBytes, maxMemory: maxmemoryBytes };
}
