// The PSYNC replica engine: the tool connects to the source as a replica, loads the full sync's
// RDB onto the target with RESTORE, then applies the replication stream command by command,
// acknowledging the applied offset, resuming with PSYNC <replid> <offset> after a cut.
//
// export interface PsyncCheckpoint { replid: string; offset: number; db?: number }
// export class PsyncReplica {
//   constructor(opts: PsyncReplicaOptions);
//   start(): Promise<void>;            // resolves once the handshake is done (full sync or continue)
//   rdbLoaded(): Promise<{ keys: number; bytes: number }>; // at once when continued
//   get phase(): 'connecting' | 'rdb' | 'stream' | 'stopped' | 'failed';
//   get checkpoint(): PsyncCheckpoint | null;
//   lag(): { bytes: number | null; seconds: number | null; sourceOffset: number | null };
//   waitForOffset(offset: number, timeoutMs: number): Promise<boolean>;
//   sourceOffset(): Promise<number>;   // master_repl_offset read now
//   get failure(): Error | null;       // set when it stopped by itself (target error, auth, ...)
//   onFailure(cb: (err: Error) => void): void;
//   stop(): Promise<void>;             // closes everything, idempotent
// }
export { PsyncReplica } from './replica.js';
export type {
  PsyncCheckpoint,
  PsyncEvent,
  PsyncLag,
  PsyncPhase,
  PsyncReplicaOptions,
} from './types.js';
