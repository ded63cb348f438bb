// When keys expire, compared so that the moment each server was asked is never a difference.
//
// A relative TTL (PTTL) shrinks while it is read: the source's and the target's replies come from
// different moments (a page queued behind big DUMPs, a loaded machine), so two copies of a key
// that expire at the same instant can show PTTLs 100 ms apart. Two ways around it:
//   - absolute (Redis >= 7.0 on both sides): PEXPIRETIME, the expiry as a Unix time in ms on the
//     server's clock. The target's clock may run ahead of or behind the source's (another host):
//     the offset is measured once with TIME on both servers, and its uncertainty (half of each
//     round trip) widens every comparison, so clock skew between hosts is not a difference either;
//   - relative (older servers, or PEXPIRETIME refused): each PTTL becomes an expiry window on the
//     local clock, [sent + PTTL, received + PTTL] of the pipeline that read it; two keys differ
//     only when their windows are further apart than the tolerance.
// Either way a reading is an interval [earliest, latest] on one common clock.
import type { RespConnection } from '../resp/connection.js';
import { RespError, type RespReply } from '../resp/reply.js';
import type { VerifyReport } from './types.js';

export type ExpiryClock =
  | {
      kind: 'absolute';
      /** Target clock minus source clock, in ms. */
      targetAheadMs: number;
      /** How far off targetAheadMs may be (half of each TIME round trip). */
      uncertaintyMs: number;
    }
  | { kind: 'relative'; reason: string };

/** One key's expiry on one side, on the run's common clock. */
export interface ExpiryReading {
  /** -2 missing, -1 persistent, else about how many ms are left. */
  pttl: number;
  /** Earliest and latest moment it may expire (meaningless when pttl < 0). */
  earliest: number;
  latest: number;
}

/** Local clock in ms with sub-ms resolution (the relative mode's common clock). */
export function localNow(): number {
  return performance.timeOrigin + performance.now();
}

/** TIME round trips per server; the quickest one counts (a loaded machine delays some by 10s of ms). */
const OFFSET_SAMPLES = 10;

/**
 * Absolute mode when both servers answer PEXPIRETIME, with the clock offset between them;
 * relative mode otherwise, with the reason.
 */
export async function decideExpiryClock(
  source: RespConnection,
  target: RespConnection,
): Promise<ExpiryClock> {
  const probe = Buffer.from('migration-buddy:pexpiretime-probe');
  const [a, b] = await Promise.all([
    source.exec([['PEXPIRETIME', probe]]),
    target.exec([['PEXPIRETIME', probe]]),
  ]);
  for (const [reply, side] of [
    [a[0], 'source'],
    [b[0], 'target'],
  ] as const) {
    if (reply instanceof RespError) {
      return {
        kind: 'relative',
        reason: `PEXPIRETIME refused on the ${side} (${reply.message}; it needs Redis 7.0): TTLs compared by PTTL, bounded by the time between the reads`,
      };
    }
  }
  const [s, t] = await Promise.all([clockOffset(source), clockOffset(target)]);
  return {
    kind: 'absolute',
    targetAheadMs: t.offsetMs - s.offsetMs,
    uncertaintyMs: s.errorMs + t.errorMs,
  };
}

/**
 * Server clock minus local clock, from the TIME round trip with the smallest error: the server
 * read its clock somewhere between sending and receiving, so the midpoint is off by at most half
 * the round trip.
 */
async function clockOffset(conn: RespConnection): Promise<{ offsetMs: number; errorMs: number }> {
  let best = { offsetMs: 0, errorMs: Number.POSITIVE_INFINITY };
  for (let i = 0; i < OFFSET_SAMPLES; i++) {
    const sent = localNow();
    const [reply] = await conn.exec([['TIME']]);
    const received = localNow();
    const server = serverTimeMs(reply);
    if (server === null) throw new Error(`TIME on ${conn.where}: unexpected reply ${String(reply)}`);
    const errorMs = (received - sent) / 2;
    if (errorMs < best.errorMs) best = { offsetMs: server - (sent + received) / 2, errorMs };
  }
  return best;
}

/** A TIME reply ([seconds, microseconds]) in ms, or null. */
export function serverTimeMs(reply: RespReply | undefined): number | null {
  if (!Array.isArray(reply) || reply.length !== 2) return null;
  const seconds = Number(String(reply[0]));
  const micros = Number(String(reply[1]));
  if (!Number.isFinite(seconds) || !Number.isFinite(micros)) return null;
  return seconds * 1000 + micros / 1000;
}

/**
 * Absolute mode: a PEXPIRETIME reply on one side, on the source's clock. `serverNow` is the side's
 * TIME read right after the page (for the approximate ms left).
 */
export function absoluteReading(
  expireTime: number,
  serverNow: number,
  side: 'source' | 'target',
  clock: Extract<ExpiryClock, { kind: 'absolute' }>,
): ExpiryReading {
  if (expireTime < 0) return { pttl: expireTime, earliest: 0, latest: 0 };
  const pttl = Math.max(0, Math.round(expireTime - serverNow));
  if (side === 'source') return { pttl, earliest: expireTime, latest: expireTime };
  const onSourceClock = expireTime - clock.targetAheadMs;
  return {
    pttl,
    earliest: onSourceClock - clock.uncertaintyMs,
    latest: onSourceClock + clock.uncertaintyMs,
  };
}

/**
 * Relative mode: a PTTL read by a pipeline sent at `sent` and answered at `received` (local ms).
 * The server computes PTTL from whole milliseconds, so it may be up to 1 ms short.
 */
export function relativeReading(pttl: number, sent: number, received: number): ExpiryReading {
  if (pttl < 0) return { pttl, earliest: 0, latest: 0 };
  return { pttl, earliest: sent + pttl, latest: received + pttl + 1 };
}

/** How far apart two expiry windows are at least (0 when they overlap). */
export function expiryGap(a: ExpiryReading, b: ExpiryReading): number {
  return Math.max(0, a.earliest - b.latest, b.earliest - a.latest);
}

/** For the report: how TTLs were compared. */
export function describeExpiryClock(clock: ExpiryClock): NonNullable<VerifyReport['ttls']> {
  if (clock.kind === 'relative') return { by: 'pttl', reason: clock.reason };
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  return {
    by: 'expiretime',
    targetClockAheadMs: round(clock.targetAheadMs),
    clockUncertaintyMs: round(clock.uncertaintyMs),
  };
}
