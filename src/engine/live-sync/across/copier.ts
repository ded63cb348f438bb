// The live-sync copier across topologies: each changed key is read from the one source node that
// notified it (DUMP + PTTL, pipelined) and written where its slot lives on the target (the router:
// RESTORE ... REPLACE, or UNLINK when the source no longer has it), pipelined per target node and
// following MOVED/ASK during a resharding on the target. DUMP payloads are held whole, as in the
// bulk copy across topologies (copy-across.ts): no chunking of big keys here.
import type { Endpoint } from '../../../redis/endpoint.js';
import { UserError } from '../../../util/errors.js';
import type { Logger } from '../../../util/logger.js';
import type { KeyHolders } from '../../cluster/nodes.js';
import { type KeyRouter, openRouter, type RoutedCommand } from '../../cluster/router.js';
import { RespConnection } from '../../resp/connection.js';
import { type RespArg, RespError, type RespReply, replyInt } from '../../resp/reply.js';
import type { Copier } from '../copier.js';

export interface AcrossCopier extends Copier {
  /** The target's router (the reconcile pass compares and deletes through it). */
  router(): Promise<KeyRouter>;
  /** A pipeline on the source node, on db `db`. */
  source(db: number, commands: readonly (readonly RespArg[])[]): Promise<RespReply[]>;
}

export function acrossCopier(
  sourceNode: Endpoint,
  target: Endpoint,
  targetHolders: KeyHolders,
  targetDb: number,
  logger?: Logger,
): AcrossCopier {
  let src: Promise<RespConnection> | undefined;
  let dst: Promise<KeyRouter> | undefined;
  let closed = false;
  const sourceConn = () => {
    src ??= RespConnection.open(sourceNode, { role: 'live-sync-source' });
    src.catch(() => {
      src = undefined;
    });
    return src;
  };
  const router = () => {
    dst ??= openRouter(target, targetHolders, 'live-sync-target', targetDb);
    dst.catch(() => {
      dst = undefined;
    });
    return dst;
  };
  const onSource = async (db: number, commands: readonly (readonly RespArg[])[]) => {
    const conn = await sourceConn();
    const withDb = conn.db === db ? commands : [['SELECT', db] as RespArg[], ...commands];
    const replies = await conn.exec(withDb);
    if (conn.db !== db) {
      const selected = replies.shift();
      if (selected instanceof RespError)
        throw new UserError(`SELECT ${db} on the source: ${selected.message}`);
      conn.db = db;
    }
    return replies;
  };
  const drop = async () => {
    const [s, d] = [src, dst];
    src = undefined;
    dst = undefined;
    (await s?.catch(() => null))?.destroy();
    await (await d?.catch(() => null))?.close();
  };
  return {
    router,
    source: onSource,
    async copyKeySet(db, keys) {
      if (closed) throw new UserError('live sync stopped: no more keys are copied');
      try {
        const reads = await onSource(
          db,
          keys.flatMap((k) => [['DUMP', k] as RespArg[], ['PTTL', k] as RespArg[]]),
        );
        const writes: RoutedCommand[] = [];
        let failed = 0;
        keys.forEach((key, i) => {
          const payload = reads[2 * i];
          const pttl = replyInt(reads[2 * i + 1] ?? null) ?? -2;
          if (payload instanceof RespError) {
            failed++;
            logger?.warn({ key: key.toString('hex'), err: payload.message }, 'live sync: DUMP failed');
          } else if (!Buffer.isBuffer(payload) || pttl === -2) {
            writes.push({ key, command: ['UNLINK', key] });
          } else {
            writes.push({ key, command: ['RESTORE', key, Math.max(pttl, 0), payload, 'REPLACE'] });
          }
        });
        const results = await (await router()).exec(writes);
        let deleted = 0;
        results.forEach((r, i) => {
          if (r instanceof RespError) {
            failed++;
            logger?.warn(
              { key: writes[i]!.key.toString('hex'), err: r.message },
              'live sync: write to the target failed',
            );
          } else if (writes[i]!.command[0] === 'UNLINK') deleted += Number(r);
        });
        return { keysFailed: failed, keysDeleted: deleted };
      } catch (err) {
        // A broken connection is opened afresh on the next batch.
        await drop();
        throw err;
      }
    },
    async close() {
      closed = true;
      await drop();
    },
  };
}
