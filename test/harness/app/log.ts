// One line per acknowledged write in the app's log: what was written, which server acknowledged
// it and how long the app waited for it (first attempt to reply, retries included).
export type AckedWrite =
  | { op: 'set'; key: string; value: string }
  /** value: the counter's value in the reply. */
  | { op: 'incr'; key: string; value: number }
  | { op: 'hset'; key: string; field: string; value: string }
  | { op: 'rpush'; key: string; value: string }
  /** deadline: epoch ms of the first attempt + px. */
  | { op: 'setpx'; key: string; value: string; px: number; deadline: number };

export type AckLine = AckedWrite & {
  seq: number;
  /** host:port of the server that acknowledged it. */
  server: string;
  waitMs: number;
  attempts: number;
  /** Epoch ms of the acknowledgement. */
  at: number;
};

/** What the app tells when it stops. */
export interface AppReport {
  acknowledged: number;
  /** Failed attempts (each was retried until acknowledged or the app stopped). */
  errors: number;
  /** The app's longest wait for one write: the write pause, as the app saw it. */
  maxWaitMs: number;
  p99Ms: number;
  /** Acknowledged writes per server (host:port). */
  byServer: Record<string, number>;
  logFile: string;
  /** Wall time from the first write to the stop. */
  durationMs: number;
  /** The last few error messages, for a failure's explanation. */
  lastErrors: string[];
}
