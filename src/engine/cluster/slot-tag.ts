// A short hash tag for every cluster slot: a key carrying `{tag}` hashes to that slot, whatever
// else it holds. Lets the copy name a helper key (a big key's temporary key) on the same node
// as the key it is for. Found once by counting up: all 16384 slots are covered by short numbers.
import { keySlot, SLOT_COUNT } from './slot.js';

let tags: string[] | undefined;

export function slotTag(slot: number): string {
  if (!tags) {
    const found: string[] = new Array(SLOT_COUNT);
    let missing = SLOT_COUNT;
    for (let n = 0; missing > 0; n++) {
      const tag = n.toString(36);
      const s = keySlot(tag);
      if (found[s] === undefined) {
        found[s] = tag;
        missing--;
      }
    }
    tags = found;
  }
  return tags[slot]!;
}
