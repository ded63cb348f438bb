// Who owns each slot of a cluster now (CLUSTER SLOTS through a connection already open), for the
// checks of a shard's run: did its node lose its slots, which of its slots moved during the scan.
import { nodeAddress, parseClusterSlots } from '../../probe/cluster-topology.js';
import type { RespConnection } from '../resp/connection.js';
import { RespError } from '../resp/reply.js';
import { plain } from './plain-reply.js';
import { SLOT_COUNT } from './slot.js';

/** Slot -> `host:port` of its primary (undefined: unassigned). */
export type SlotOwners = (string | undefined)[];

export async function readSlotOwners(conn: RespConnection, fallbackHost: string): Promise<SlotOwners> {
  const [reply] = await conn.exec([['CLUSTER', 'SLOTS']]);
  if (reply instanceof RespError) throw new Error(`CLUSTER SLOTS failed: ${reply.message}`);
  const owners: SlotOwners = new Array(SLOT_COUNT);
  for (const shard of parseClusterSlots(plain(reply ?? null), fallbackHost)) {
    const owner = nodeAddress(shard.primary);
    for (const [first, last] of shard.slots) for (let s = first; s <= last; s++) owners[s] = owner;
  }
  return owners;
}

/** Every slot of the ranges, as a set. */
export function slotSet(ranges: readonly [number, number][]): Set<number> {
  const out = new Set<number>();
  for (const [first, last] of ranges) for (let s = first; s <= last; s++) out.add(s);
  return out;
}

/** The slots of `mine` that `owners` gives to another node than `address`, grouped by that node. */
export function movedAway(mine: Set<number>, owners: SlotOwners, address: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const slot of mine) {
    const owner = owners[slot];
    if (owner === undefined || owner === address) continue;
    const list = out.get(owner) ?? [];
    list.push(slot);
    out.set(owner, list);
  }
  return out;
}
