// Connections to both ends of a replication link and the readings every step takes from them.
import type { Redis } from 'ioredis';
import { parseClientList } from '../../engine/cutover/index.js';
import { connect } from '../../redis/connect.js';
import type { Endpoint } from '../../redis/endpoint.js';
import { parseSourceState, parseTargetState, type SourceState, type TargetState } from './info.js';

export class LinkSession {
  private constructor(
    readonly source: Redis | null,
    readonly target: Redis,
    readonly endpoints: { source: Endpoint; target: Endpoint },
  ) {}

  /** Opens both connections; the source one is optional for steps that can do without it. */
  static async open(
    endpoints: { source: Endpoint; target: Endpoint },
    role: string,
    options: { sourceRequired?: boolean } = {},
  ): Promise<LinkSession> {
    const target = await connect(endpoints.target, { role });
    let source: Redis | null = null;
    try {
      source = await connect(endpoints.source, { role });
    } catch (err) {
      if (options.sourceRequired !== false) {
        target.disconnect();
        throw err;
      }
    }
    return new LinkSession(source, target, endpoints);
  }

  async close(): Promise<void> {
    await Promise.all([quit(this.target), this.source ? quit(this.source) : undefined]);
  }

  requireSource(): Redis {
    if (!this.source) throw new Error(`the source ${this.endpoints.source.name} is not reachable from here`);
    return this.source;
  }

  async targetState(): Promise<TargetState> {
    return parseTargetState((await this.target.call('INFO')) as string);
  }

  async sourceState(): Promise<SourceState> {
    return parseSourceState((await this.requireSource().call('INFO')) as string);
  }

  /**
   * Source first, then target: the lag is how much of what the source had written by the first
   * reading has not reached the target by the second (0 = everything had arrived).
   */
  async readBoth(): Promise<{ source: SourceState; target: TargetState; lagBytes: number }> {
    const source = await this.sourceState();
    const target = await this.targetState();
    return { source, target, lagBytes: Math.max(0, source.offset - target.offset) };
  }

  /**
   * The source's output buffer for this target (CLIENT LIST TYPE replica `omem`), matched on the
   * address of the target's master link (`laddr` of CLIENT LIST TYPE master on the target). Null
   * when it cannot be told apart (NAT, commands refused).
   */
  async outputBufferBytes(): Promise<number | null> {
    try {
      const mine = parseClientList((await this.target.call('CLIENT', 'LIST', 'TYPE', 'master')) as string)[0];
      const replicas = parseClientList(
        (await this.requireSource().call('CLIENT', 'LIST', 'TYPE', 'replica')) as string,
      );
      const match = mine?.laddr ? replicas.find((r) => r.addr === mine.laddr) : undefined;
      const entry = match ?? (replicas.length === 1 ? replicas[0] : undefined);
      return entry?.omem !== undefined ? Number(entry.omem) : null;
    } catch {
      return null;
    }
  }
}

async function quit(client: Redis): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/** The source's entry for this target (matched on the port the target announces). */
export function findOurReplica(source: SourceState, target: TargetState) {
  const byPort = source.replicas.filter((r) => r.port === target.tcpPort);
  return byPort.length === 1 ? byPort[0] : undefined;
}
