// migrateShard: one source shard pushed by its primary itself, with
// `MIGRATE host port "" db timeout COPY REPLACE [AUTH2 user pass | AUTH pass] KEYS k1 k2 ...` to the
// target node owning each key's slot (the standalone model is strategies/migrate/migrate-keys.ts;
// the engine cannot import it, so the command is built here the same way). The walk is the
// shard's (shard-run.ts: own slots, moved slots read again, checkpoint, identity checks). A
// cluster node refuses a multi-key command across slots (CROSSSLOT), so from a cluster source one
// MIGRATE carries the keys of one slot, all of a page's MIGRATEs pipelined; from a standalone
// source one carries a page's keys for one target node. A target node that answers MOVED (through
// MIGRATE's "Target instance replied with error") makes the router read the slot map again and
// the keys go again, regrouped; ASK sends them to the importing node (a cluster source's MIGRATE
// restores with RESTORE-ASKING). COPY: the source keeps its keys. The target password is in the
// command only, never in a log or an error.
import type { Endpoint } from '../../redis/endpoint.js';
import { UserError } from '../../util/errors.js';
import { sleep } from '../../util/sleep.js';
import { type BatchResult, emptyResult, keyError } from '../copy/context.js';
import { RespConnection } from '../resp/connection.js';
import { type RespArg, RespError, replyText } from '../resp/reply.js';
import { resolveAcross } from './across-dbs.js';
import { ClusterRouter, type KeyRouter, openRouter } from './router.js';
import { openShardSource, splitAddress } from './shard-nodes.js';
import { ShardRun, type ShardWork } from './shard-run.js';
import type { ShardCopyReport, ShardRunOptions } from './shards.js';
import { keySlot } from './slot.js';

export interface ShardMigrateOptions extends ShardRunOptions {
  /** MIGRATE's I/O timeout towards the target (default 10 s). */
  timeoutMs?: number;
  /** SCAN COUNT (default 100: MIGRATE blocks the source while a batch moves). */
  batchSize?: number;
  /** A target node's address as the source reaches it (default: as the target's slot map names it). */
  targetAddress?: (address: string) => { host: string; port: number };
}

/** Rounds of redirects (MOVED, ASK) or IOERR retries of one page's keys before they fail. */
const MAX_ROUNDS = 6;

export async function migrateShard(opts: ShardMigrateOptions): Promise<ShardCopyReport> {
  const { shard } = opts;
  if (shard.readFrom !== shard.primary) {
    throw new UserError(
      `MIGRATE runs on the source primary ${shard.primary}: shard ${shard.id} is listed to read from replica ` +
        `${shard.readFrom}, which cannot send MIGRATE; list the shards without a replica for MIGRATE`,
    );
  }
  const sides = await resolveAcross(opts.source, opts.target, opts.mapping);
  const { sourceDb, targetDb } = sides;
  const sourceCluster = sides.source.cluster;
  const closers: (() => unknown)[] = [];
  let router: KeyRouter | null = null;
  try {
    const src = await openShardSource(opts.source, shard, sourceCluster, sourceDb, 'shard-migrate');
    closers.push(() => src.destroy());
    const scan = await openShardSource(opts.source, shard, sourceCluster, sourceDb, 'shard-migrate-scan');
    closers.push(() => scan.destroy());
    const targetConns: RespConnection[] = [];
    closers.push(() => {
      for (const c of targetConns) c.destroy();
    });
    for (const n of sides.target.nodes) {
      targetConns.push(await RespConnection.open(n.endpoint, { role: 'shard-target-check', db: targetDb }));
    }
    router = await openRouter(opts.target, sides.target, 'shard-migrate-target', targetDb);
    const r = router;
    closers.push(() => r.close());
    const work: ShardWork = {
      kind: 'shard-migrate',
      page: (from, keys) => migratePage(from, keys, { opts, router: r, targetDb, sourceCluster }),
    };
    const run = new ShardRun(
      { ...opts, batchSize: opts.batchSize ?? 100 },
      { src, scan, targetConns, work, sourceDb, targetDb, sourceCluster },
    );
    const report = await run.run();
    return { ...report, redirects: router instanceof ClusterRouter ? { ...router.redirects } : null };
  } finally {
    for (const close of closers.reverse()) await close();
  }
}

interface PageContext {
  opts: ShardMigrateOptions;
  router: KeyRouter;
  targetDb: number;
  sourceCluster: boolean;
}

/** MOVED/ASK inside MIGRATE's error ("... Target instance replied with error: MOVED 12 host:port"). */
function redirectOf(message: string): { kind: 'MOVED' | 'ASK'; address: string } | null {
  const m = /\b(MOVED|ASK) \d+ (\S+)/.exec(message);
  return m ? { kind: m[1] as 'MOVED' | 'ASK', address: m[2]! } : null;
}

async function migratePage(src: RespConnection, keys: Buffer[], c: PageContext): Promise<BatchResult> {
  const result = emptyResult();
  const timeout = c.opts.timeoutMs ?? 10_000;
  let pending = keys.map((key) => ({ key, to: undefined as string | undefined }));
  for (let round = 0; pending.length > 0; round++) {
    if (round >= MAX_ROUNDS) {
      for (const p of pending)
        keyError(result, 0, p.key, 'MIGRATE: still redirected or failing after retries');
      break;
    }
    if (round > 0) await sleep(50 * round);
    // One MIGRATE per (target node, slot) from a cluster source; per target node otherwise.
    const groups = new Map<string, { address: string; keys: Buffer[] }>();
    for (const p of pending) {
      const address = p.to ?? c.router.nodeOf(p.key);
      const id = c.sourceCluster ? `${address} ${keySlot(p.key)}` : address;
      const g = groups.get(id) ?? { address, keys: [] };
      g.keys.push(p.key);
      groups.set(id, g);
    }
    const list = [...groups.values()];
    const replies = await src.exec(list.map((g) => migrateCommand(c, g.address, g.keys, timeout)));
    const next: typeof pending = [];
    let refresh = false;
    list.forEach((g, i) => {
      const reply = replies[i] ?? null;
      if (!(reply instanceof RespError)) {
        const text = replyText(reply) ?? '';
        if (text === 'NOKEY') result.keysSkipped += g.keys.length;
        else result.keysCopied += g.keys.length;
        return;
      }
      if (/^(MOVED|ASK) \d+ /.test(reply.message)) {
        // The source itself redirects: the slot left it during the scan (read again at the end).
        for (const key of g.keys) keyError(result, 0, key, `MIGRATE: ${reply.message}`);
        return;
      }
      const redirect = redirectOf(reply.message);
      if (redirect?.kind === 'MOVED') {
        refresh = true;
        for (const key of g.keys) next.push({ key, to: undefined });
      } else if (redirect?.kind === 'ASK') {
        for (const key of g.keys) next.push({ key, to: redirect.address });
      } else if (/^IOERR\b|TRYAGAIN|CLUSTERDOWN/.test(reply.message)) {
        for (const key of g.keys) next.push({ key, to: undefined });
      } else {
        const message = reply.message.slice(0, 300);
        for (const key of g.keys) keyError(result, 0, key, `MIGRATE to ${g.address}: ${message}`);
      }
    });
    if (refresh && c.router instanceof ClusterRouter) await c.router.refresh().catch(() => undefined);
    pending = next;
  }
  return result;
}

function migrateCommand(c: PageContext, address: string, keys: Buffer[], timeoutMs: number): RespArg[] {
  const { host, port } = c.opts.targetAddress?.(address) ?? splitAddress(address);
  const target: Endpoint = c.opts.target;
  const args: RespArg[] = ['MIGRATE', host, port, '', c.targetDb, timeoutMs, 'COPY', 'REPLACE'];
  if (target.password) {
    if (target.username && target.username !== 'default')
      args.push('AUTH2', target.username, target.password);
    else args.push('AUTH', target.password);
  }
  args.push('KEYS', ...keys);
  return args;
}
