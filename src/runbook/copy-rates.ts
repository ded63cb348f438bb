// How fast each strategy's copies went between two servers, kept in the control Redis: the last
// RECORDED_RUNS finished copies per (strategy, source -> target), newest first, so the next plan
// between the same servers estimates its copy time from them (planner/copy-rate.ts).
import type { Redis } from 'ioredis';
import type { MeasuredRate, MeasuredRates } from '../planner/copy-rate.js';
import { STRATEGIES, type StrategyName } from '../planner/types.js';

/** Runs kept per strategy and pair: a rolling record, recent enough to follow the servers' load. */
export const RECORDED_RUNS = 10;

/** A whole copy as the step that made it measured it (StepOutcome.copied). */
export interface MeasuredCopy {
  keys: number;
  /** Bytes moved, when the copy knows them. */
  bytes?: number;
  durationMs: number;
}

/** The two servers of a migration, as host and port (never credentials). */
export interface ServerPair {
  source: { host: string; port: number };
  target: { host: string; port: number };
}

export class CopyRates {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** Records one finished copy; a copy of no keys or no time measures nothing and is left out. */
  async record(strategy: StrategyName, pair: ServerPair, copy: MeasuredCopy, at: string): Promise<void> {
    const rate = measuredRate(copy, at);
    if (!rate) return;
    const key = this.key(strategy, pair);
    await this.redis
      .multi()
      .lpush(key, JSON.stringify(rate))
      .ltrim(key, 0, RECORDED_RUNS - 1)
      .exec();
  }

  /** Every strategy's recorded runs between these servers (strategies without any are absent). */
  async read(pair: ServerPair): Promise<MeasuredRates> {
    const pipe = this.redis.pipeline();
    for (const s of STRATEGIES) pipe.lrange(this.key(s, pair), 0, RECORDED_RUNS - 1);
    const replies = (await pipe.exec()) ?? [];
    const out: MeasuredRates = {};
    STRATEGIES.forEach((s, i) => {
      const [err, raw] = replies[i] ?? [];
      if (err || !Array.isArray(raw)) return;
      const runs = raw.flatMap((r) => parseRate(String(r)));
      if (runs.length > 0) out[s] = runs;
    });
    return out;
  }

  private key(strategy: StrategyName, pair: ServerPair): string {
    return `${this.prefix}:rates:${strategy}:${serverOf(pair.source)}>${serverOf(pair.target)}`;
  }
}

/** keys/s (and bytes/s when known) of one copy; undefined when it measured nothing. */
export function measuredRate(copy: MeasuredCopy, at: string): MeasuredRate | undefined {
  if (!(copy.keys > 0) || !(copy.durationMs > 0)) return undefined;
  const seconds = copy.durationMs / 1000;
  return {
    keysPerSecond: Math.round(copy.keys / seconds),
    ...(copy.bytes !== undefined && copy.bytes > 0
      ? { bytesPerSecond: Math.round(copy.bytes / seconds) }
      : {}),
    keys: copy.keys,
    at,
  };
}

function serverOf(s: { host: string; port: number }): string {
  return `${s.host.toLowerCase()}:${s.port}`;
}

function parseRate(raw: string): MeasuredRate[] {
  try {
    const v = JSON.parse(raw) as Partial<MeasuredRate>;
    if (typeof v.keysPerSecond !== 'number' || typeof v.keys !== 'number' || typeof v.at !== 'string')
      return [];
    return [v as MeasuredRate];
  } catch {
    return [];
  }
}
