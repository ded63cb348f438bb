// The replica handshake on a fresh link: AUTH, PING, REPLCONF listening-port, REPLCONF capa eof
// capa psync2, PSYNC, one command at a time (a source refuses PSYNC with replies still pending).
// Its answer decides the rest: +FULLRESYNC <replid> <offset> (an RDB follows) or +CONTINUE
// [<new replid>] (the stream follows). Errors name the endpoint, never its password.
import type { Socket } from 'node:net';
import { connectionError, connectTimeoutFor } from '../../redis/connect.js';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { ExitCode, UserError } from '../../util/errors.js';
import { openSocket } from '../resp/connection.js';
import { CommandEncoder } from '../resp/encoder.js';
import type { RespArg } from '../resp/reply.js';

export type PsyncAnswer =
  | { kind: 'full'; replid: string; offset: number }
  | { kind: 'continue'; replid: string | null };

export interface Handshake {
  socket: Socket;
  answer: PsyncAnswer;
  /** Bytes read after the PSYNC answer line (the start of the RDB preface or of the stream). */
  rest: Buffer;
}

/** The source cannot serve a replica right now (loading, its own master link down): try again. */
export class SourceNotReadyError extends UserError {
  constructor(message: string) {
    super(message, ExitCode.problem);
    this.name = 'SourceNotReadyError';
  }
}

export async function replicaHandshake(
  endpoint: Endpoint,
  psync: { replid: string; offset: number } | null,
  listeningPort: number,
): Promise<Handshake> {
  const timeoutMs = connectTimeoutFor(endpoint);
  const socket = await openSocket(endpoint, timeoutMs);
  const lines = new LineReader(socket, endpoint, timeoutMs);
  const where = describeEndpoint(endpoint);
  try {
    if (endpoint.password !== undefined) {
      const auth = await lines.ask(
        endpoint.username ? ['AUTH', endpoint.username, endpoint.password] : ['AUTH', endpoint.password],
      );
      if (auth.startsWith('-')) throw connectionError(endpoint, new Error(auth.slice(1)));
    }
    const pong = await lines.ask(['PING']);
    if (pong.startsWith('-')) {
      if (/NOAUTH|WRONGPASS/.test(pong)) throw connectionError(endpoint, new Error(pong.slice(1)));
      throw refused(where, 'PING', pong);
    }
    for (const args of [
      ['REPLCONF', 'listening-port', listeningPort],
      ['REPLCONF', 'capa', 'eof', 'capa', 'psync2'],
    ]) {
      const reply = await lines.ask(args);
      if (reply.startsWith('-')) throw refused(where, String(args.slice(0, 2).join(' ')), reply);
    }
    const answer = await lines.ask(psync ? ['PSYNC', psync.replid, psync.offset + 1] : ['PSYNC', '?', -1]);
    return { socket, answer: parseAnswer(where, answer), rest: lines.release() };
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

function parseAnswer(where: string, line: string): PsyncAnswer {
  const full = /^\+FULLRESYNC ([0-9a-f]{40}) (\d+)$/.exec(line);
  if (full) return { kind: 'full', replid: full[1]!, offset: Number(full[2]) };
  const cont = /^\+CONTINUE(?: ([0-9a-f]{40}))?$/.exec(line);
  if (cont) return { kind: 'continue', replid: cont[1] ?? null };
  if (/^-(LOADING|NOMASTERLINK|BUSY)/.test(line)) {
    throw new SourceNotReadyError(`source ${where} cannot serve a replica now: ${line.slice(1)}`);
  }
  throw refused(where, 'PSYNC', line);
}

function refused(where: string, what: string, reply: string): UserError {
  const error = reply.replace(/^-/, '');
  const hint = /NOPERM/.test(error)
    ? ': the user needs +psync +sync +replconf +ping in its ACL to read the source as a replica'
    : /unknown command|not allowed/i.test(error)
      ? ': the source (or a proxy in front of it) does not offer replication to clients; use another strategy'
      : '';
  return new UserError(`source ${where} refused ${what}: ${error}${hint}`, ExitCode.problem);
}

/** Sends one command and reads one reply line; stops listening once released. */
class LineReader {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (line: string) => void; reject: (err: Error) => void } | null = null;
  private failure: Error | null = null;
  private readonly onData = (chunk: Buffer) => {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.deliver();
  };
  private readonly onEnd = (err?: Error | boolean) => {
    const cause = err instanceof Error ? err : new Error('the source closed the connection');
    this.failure ??= connectionError(this.endpoint, cause);
    this.waiting?.reject(this.failure);
    this.waiting = null;
  };

  constructor(
    private readonly socket: Socket,
    private readonly endpoint: Endpoint,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', this.onData);
    socket.on('error', this.onEnd);
    socket.on('close', this.onEnd);
  }

  ask(args: RespArg[]): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    const enc = new CommandEncoder();
    enc.push(args);
    for (const chunk of enc.take()) this.socket.write(chunk);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        reject(
          new UserError(
            `source ${describeEndpoint(this.endpoint)} did not answer ${String(args[0])} within ${Math.round(this.timeoutMs / 1000)} s`,
            ExitCode.problem,
          ),
        );
      }, this.timeoutMs);
      this.waiting = {
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.deliver();
    });
  }

  release(): Buffer {
    this.socket.off('data', this.onData);
    this.socket.off('error', this.onEnd);
    this.socket.off('close', this.onEnd);
    // Nothing reads until the link reader takes over.
    this.socket.pause();
    return this.buf;
  }

  private deliver(): void {
    if (!this.waiting) return;
    // Keep-alive newlines may precede a reply.
    let start = 0;
    while (start < this.buf.length && this.buf[start] === 0x0a) start++;
    const eol = this.buf.indexOf('\r\n', start);
    if (eol < 0) return;
    const line = this.buf.subarray(start, eol).toString('latin1');
    this.buf = this.buf.subarray(eol + 2);
    const w = this.waiting;
    this.waiting = null;
    w.resolve(line);
  }
}
