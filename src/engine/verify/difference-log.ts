// Keys that differed, waiting for re-checks, and the final tally. Candidates are kept by
// (db, key) so a key found by both scan directions is counted once. Past maxRecheck candidates,
// further differing keys go straight to the tally as unconfirmed: memory stays bounded even
// when the target is empty.
import { printableKey } from '../../probe/printable-key.js';
import type { Difference } from './evaluate.js';
import {
  DIFFERENCE_CLASSES,
  type DifferenceClass,
  type DifferenceSample,
  type VerifyReport,
} from './types.js';

export interface Candidate {
  db: number;
  key: Buffer;
  diffs: Difference[];
}

export class DifferenceLog {
  private readonly candidates = new Map<string, Candidate>();
  private readonly counts = new Map<DifferenceClass, number>();
  private readonly samples = new Map<DifferenceClass, DifferenceSample[]>();
  /** Keys tallied without re-check because the candidate list was full. */
  unconfirmed = 0;
  /** Keys ever added as candidates. */
  candidatesSeen = 0;
  /** Keys tallied as different. */
  differentKeys = 0;
  private readonly explained: DifferenceSample[] = [];
  private explainedCount = 0;

  constructor(
    private readonly maxRecheck: number,
    private readonly maxSamples: number,
  ) {}

  private id(db: number, key: Buffer): string {
    return `${db}:${key.toString('latin1')}`;
  }

  /** A key that differs now. Copies the key: SCAN replies are slices of big socket chunks. */
  add(db: number, key: Buffer, diffs: Difference[]): void {
    const id = this.id(db, key);
    const existing = this.candidates.get(id);
    if (existing) {
      existing.diffs = diffs;
      return;
    }
    if (this.candidates.size >= this.maxRecheck) {
      this.unconfirmed++;
      this.tally(db, key, diffs);
      return;
    }
    this.candidatesSeen++;
    this.candidates.set(id, { db, key: Buffer.from(key), diffs });
  }

  get size(): number {
    return this.candidates.size;
  }

  /** Candidates grouped by db, for a re-check round. */
  byDb(): Map<number, Candidate[]> {
    const out = new Map<number, Candidate[]>();
    for (const c of this.candidates.values()) {
      const list = out.get(c.db);
      if (list) list.push(c);
      else out.set(c.db, [c]);
    }
    return out;
  }

  /** After a re-check: the key is fine now (forget it) or still differs (keep the latest finding). */
  update(c: Candidate, diffs: Difference[]): void {
    const id = this.id(c.db, c.key);
    if (diffs.length === 0) this.candidates.delete(id);
    else c.diffs = diffs;
  }

  private tally(db: number, key: Buffer, diffs: Difference[]): void {
    if (diffs.length === 0) return;
    this.differentKeys++;
    for (const d of diffs) {
      this.counts.set(d.cls, (this.counts.get(d.cls) ?? 0) + 1);
      let list = this.samples.get(d.cls);
      if (!list) {
        list = [];
        this.samples.set(d.cls, list);
      }
      if (list.length < this.maxSamples) list.push({ db, key: printableKey(key), detail: d.detail });
    }
  }

  /** Sets aside the candidates `explain` accounts for (VerifyOptions.explain); call before finish(). */
  async explain(explain: (keys: Array<{ db: number; key: Buffer }>) => Promise<boolean[]>): Promise<void> {
    const all = [...this.candidates.entries()];
    if (all.length === 0) return;
    const answers = await explain(all.map(([, c]) => ({ db: c.db, key: c.key })));
    all.forEach(([id, c], i) => {
      if (!answers[i]) return;
      this.candidates.delete(id);
      this.explainedCount++;
      if (this.explained.length < this.maxSamples)
        this.explained.push({
          db: c.db,
          key: printableKey(c.key),
          detail: c.diffs.map((d) => d.detail).join('; '),
        });
    });
  }

  explainedTally(): { count: number; samples: DifferenceSample[] } {
    return { count: this.explainedCount, samples: this.explained };
  }

  /** Moves every remaining candidate into the tally and returns the per-class result. */
  finish(): VerifyReport['differences'] {
    for (const c of this.candidates.values()) this.tally(c.db, c.key, c.diffs);
    this.candidates.clear();
    const out = {} as VerifyReport['differences'];
    for (const cls of DIFFERENCE_CLASSES) {
      out[cls] = { count: this.counts.get(cls) ?? 0, samples: this.samples.get(cls) ?? [] };
    }
    return out;
  }
}
