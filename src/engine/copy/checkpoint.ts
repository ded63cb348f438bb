// Checkpoints: where each database's SCAN got to (the cursor after the last batch whose every
// key reached the target), the counters at that point, and the decisions already taken. A
// killed run resumes from there; batches after the checkpoint are copied again, which RESTORE
// REPLACE makes harmless.
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import type { Endpoint } from '../../redis/endpoint.js';
import { UserError } from '../../util/errors.js';
import type { Identities } from './identity-check.js';
import {
  type CheckpointStore,
  type CopyCheckpoint,
  type CopyFingerprint,
  type NonEmptyTargetPolicy,
  zeroCounters,
} from './types.js';

/** A checkpoint in a JSON file, written atomically (temporary file + rename). */
export function fileCheckpointStore(path: string): CheckpointStore {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new UserError(`cannot read checkpoint ${path}: ${(err as Error).message}`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new UserError(`checkpoint ${path} is not valid JSON (delete it to start over)`);
      }
      if (!isCheckpoint(parsed)) {
        throw new UserError(`${path} is not a migration-buddy copy checkpoint (version 1)`);
      }
      return parsed;
    },
    async save(cp) {
      const tmp = `${path}.${process.pid}.tmp`;
      try {
        await writeFile(tmp, `${JSON.stringify(cp, null, 1)}\n`);
        await rename(tmp, path);
      } catch (err) {
        await unlink(tmp).catch(() => undefined);
        throw new UserError(`cannot write checkpoint ${path}: ${(err as Error).message}`);
      }
    },
  };
}

function isCheckpoint(value: unknown): value is CopyCheckpoint {
  if (!value || typeof value !== 'object') return false;
  const cp = value as Partial<CopyCheckpoint>;
  return (
    cp.version === 1 &&
    Array.isArray(cp.dbs) &&
    cp.dbs.every((d) => typeof d?.db === 'number' && typeof d.cursor === 'string') &&
    typeof cp.counters === 'object' &&
    cp.counters !== null &&
    typeof cp.fingerprint === 'object'
  );
}

/** The checkpoint of a run that starts at the first key, once the non-empty-target decision is taken. */
export function freshCheckpoint(start: {
  fingerprint: CopyFingerprint;
  policy: NonEmptyTargetPolicy;
  dbs: number[];
  identity: Identities;
}): CopyCheckpoint {
  const now = new Date().toISOString();
  return {
    version: 1,
    fingerprint: start.fingerprint,
    policy: start.policy,
    targetPrepared: true,
    dbs: start.dbs.map((db) => ({ db, cursor: '0', done: false })),
    functionsDone: false,
    functions: null,
    counters: zeroCounters(),
    complete: false,
    errors: [],
    errorsOmitted: 0,
    startedAt: now,
    updatedAt: now,
    identity: start.identity,
    restarts: [],
  };
}

/** What a checkpoint is bound to: resuming with other endpoints, dbs or pattern is refused. */
export function copyFingerprint(
  source: Pick<Endpoint, 'redactedUrl'>,
  target: Pick<Endpoint, 'redactedUrl'>,
  options: { dbs: CopyFingerprint['dbs']; match?: string | undefined },
): CopyFingerprint {
  return {
    source: source.redactedUrl,
    target: target.redactedUrl,
    dbs: options.dbs,
    match: options.match ?? null,
  };
}

/**
 * What a run is bound to and the checkpoint it resumes, if its store holds one (refused when that
 * one was taken for another copy).
 */
export async function loadResumePoint<C extends CopyCheckpoint>(
  source: Pick<Endpoint, 'redactedUrl'>,
  target: Pick<Endpoint, 'redactedUrl'>,
  options: {
    dbs: CopyFingerprint['dbs'];
    match?: string | undefined;
    checkpoint?: CheckpointStore | undefined;
  },
): Promise<{ fingerprint: CopyFingerprint; saved: C | undefined }> {
  const fingerprint = copyFingerprint(source, target, options);
  const saved = (await options.checkpoint?.load()) as C | undefined;
  if (saved) checkFingerprint(saved.fingerprint, fingerprint);
  return { fingerprint, saved };
}

/** Refuses to resume a checkpoint taken for another copy. */
export function checkFingerprint(saved: CopyFingerprint, now: CopyFingerprint): void {
  const problems: string[] = [];
  if (saved.source !== now.source) problems.push(`source was ${saved.source}`);
  if (saved.target !== now.target) problems.push(`target was ${saved.target}`);
  if (JSON.stringify(saved.dbs) !== JSON.stringify(now.dbs))
    problems.push(`--db was ${JSON.stringify(saved.dbs)}`);
  if (saved.match !== now.match) problems.push(`--match was ${saved.match ?? '(none)'}`);
  if (problems.length > 0) {
    throw new UserError(
      `the checkpoint belongs to another copy (${problems.join('; ')}): use another checkpoint file, or delete it to start over`,
    );
  }
}

/**
 * Serialises saves: at most one write at a time, and while one is running only the newest
 * snapshot waits (older ones are dropped), so saving after every batch never piles up.
 */
export class CheckpointWriter {
  private running: Promise<void> | undefined;
  private next: CopyCheckpoint | undefined;
  private failure: unknown;

  constructor(private readonly store: CheckpointStore | undefined) {}

  /** Queues a snapshot (the caller must not mutate it afterwards). */
  save(cp: CopyCheckpoint): void {
    if (!this.store) return;
    // A run that cannot record its progress must not go on as if it could.
    if (this.failure) throw this.failure;
    this.next = cp;
    if (!this.running) this.running = this.loop();
  }

  /** Waits until every queued snapshot is written; throws if a write failed. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    if (this.failure) {
      const err = this.failure;
      this.failure = undefined;
      throw err;
    }
  }

  private async loop(): Promise<void> {
    try {
      while (this.next) {
        const cp = this.next;
        this.next = undefined;
        try {
          await this.store!.save(cp);
        } catch (err) {
          this.failure = err;
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
