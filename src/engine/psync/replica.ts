// PsyncReplica: the orchestration (handshake -> RDB -> stream, reconnects, lag, checkpoints).
// Interface published first; the implementation lands in the following commits.
import type { PsyncCheckpoint, PsyncLag, PsyncPhase, PsyncReplicaOptions } from './types.js';

export class PsyncReplica {
  private readonly failureCallbacks: ((err: Error) => void)[] = [];
  private current: PsyncPhase = 'connecting';
  private error: Error | null = null;

  constructor(private readonly opts: PsyncReplicaOptions) {}

  start(): Promise<void> {
    return Promise.reject(new Error(`PsyncReplica for ${this.opts.source.name}: not implemented yet`));
  }

  rdbLoaded(): Promise<{ keys: number; bytes: number }> {
    return Promise.reject(new Error('PsyncReplica: not implemented yet'));
  }

  get phase(): PsyncPhase {
    return this.current;
  }

  get checkpoint(): PsyncCheckpoint | null {
    return null;
  }

  lag(): PsyncLag {
    return { bytes: null, seconds: null, sourceOffset: null };
  }

  waitForOffset(_offset: number, _timeoutMs: number): Promise<boolean> {
    return Promise.resolve(false);
  }

  sourceOffset(): Promise<number> {
    return Promise.reject(new Error('PsyncReplica: not implemented yet'));
  }

  get failure(): Error | null {
    return this.error;
  }

  onFailure(cb: (err: Error) => void): void {
    this.failureCallbacks.push(cb);
  }

  async stop(): Promise<void> {
    this.current = 'stopped';
  }
}
