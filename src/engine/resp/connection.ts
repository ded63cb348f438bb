// A lean pipelining RESP2 client over net/tls sockets for the copy hot path. ioredis spends most
// of a bulk copy's time in per-command bookkeeping; here a whole batch of commands is encoded into
// a few buffers, written at once, and its replies are collected by a streaming parser into one
// array that resolves one promise. Error replies are values (RespError), not rejections.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import {
  CLIENT_NAME_PREFIX,
  connectionError,
  connectTimeoutFor,
  noAnswerError,
  tlsOptions,
} from '../../redis/connect.js';
import { describeEndpoint, type Endpoint } from '../../redis/endpoint.js';
import { UserError } from '../../util/errors.js';
import { CommandEncoder } from './encoder.js';
import { ReplyParser } from './parser.js';
import { type RespArg, RespCommandError, RespConnectionError, RespError, type RespReply } from './reply.js';

export interface RespConnectOptions {
  /** Logical database to SELECT (defaults to the endpoint's). */
  db?: number;
  /** Suffix of the CLIENT SETNAME name, e.g. `copy-source`. */
  role?: string;
  /** Deadline for connect, TLS, AUTH, SETNAME and SELECT together (see DEFAULT_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number;
  /** A connection with commands pending and no reply for this long is considered dead. */
  replyTimeoutMs?: number;
}

/** Anything that runs a pipeline of commands: the lean connection, or an adapter in tests. */
export interface CommandRunner {
  /**
   * `maxBulkBytes` caps the bulk-string bytes kept from the replies (see execEncoded): those over
   * it come back as SkippedBulk, at the top level or inside arrays.
   */
  exec(commands: readonly (readonly RespArg[])[], maxBulkBytes?: number): Promise<RespReply[]>;
}

interface Pending {
  replies: RespReply[];
  expected: number;
  /** Bulk-string bytes this pipeline may keep; later ones arrive as SkippedBulk. */
  cap: number;
  kept: number;
  resolve: (replies: RespReply[]) => void;
  reject: (err: Error) => void;
}

/** Bulk strings this short are kept whatever a pipeline's byte cap says. */
const ALWAYS_KEPT_BYTES = 64;

export class RespConnection implements CommandRunner {
  private readonly parser: ReplyParser;
  private readonly encoder = new CommandEncoder();
  private queue: (Pending | undefined)[] = [];
  private head = 0;
  private failure: RespConnectionError | undefined;
  private lastActivity = Date.now();
  private readonly watchdog: NodeJS.Timeout;
  /** The database currently selected. */
  db: number;

  private constructor(
    private readonly socket: Socket,
    readonly endpoint: Endpoint,
    db: number,
    replyTimeoutMs: number,
  ) {
    this.db = db;
    this.parser = new ReplyParser(
      (reply) => this.onReply(reply),
      (length) => this.keepBulk(length),
    );
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.lastActivity = Date.now();
      try {
        this.parser.feed(chunk);
      } catch (err) {
        this.fail(err instanceof RespConnectionError ? err : new RespConnectionError(String(err)));
        socket.destroy();
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.fail(new RespConnectionError(`connection to ${this.where} failed: ${err.message}`, err.code));
    });
    socket.on('close', () => {
      this.fail(new RespConnectionError(`connection to ${this.where} closed`, 'ECONNRESET'));
    });
    this.watchdog = setInterval(() => {
      if (this.pendingCount > 0 && Date.now() - this.lastActivity > replyTimeoutMs) {
        this.fail(
          new RespConnectionError(
            `${this.where} sent no reply for ${Math.round(replyTimeoutMs / 1000)} s`,
            'ETIMEDOUT',
          ),
        );
        socket.destroy();
      }
    }, 1000);
    this.watchdog.unref();
  }

  /**
   * Connects, authenticates, names the client and selects the database, all within the connect
   * deadline: a server that accepts the connection and never answers fails here in seconds.
   */
  static async open(endpoint: Endpoint, options: RespConnectOptions = {}): Promise<RespConnection> {
    const timeoutMs = connectTimeoutFor(endpoint, options.connectTimeoutMs);
    const started = Date.now();
    const socket = await openSocket(endpoint, timeoutMs);
    const conn = new RespConnection(
      socket,
      endpoint,
      options.db ?? endpoint.db,
      options.replyTimeoutMs ?? 120_000,
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(noAnswerError(endpoint, timeoutMs)),
        Math.max(0, timeoutMs - (Date.now() - started)),
      );
    });
    try {
      await Promise.race([conn.handshake(options.role), deadline]);
      return conn;
    } catch (err) {
      conn.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** AUTH, CLIENT SETNAME and SELECT in one round trip; failures become UserErrors. */
  private async handshake(role: string | undefined): Promise<void> {
    const { endpoint, db } = this;
    const setup: RespArg[][] = [];
    if (endpoint.password !== undefined) {
      setup.push(
        endpoint.username ? ['AUTH', endpoint.username, endpoint.password] : ['AUTH', endpoint.password],
      );
    }
    setup.push(['CLIENT', 'SETNAME', `${CLIENT_NAME_PREFIX}:${role ?? 'copy'}`]);
    if (db !== 0) setup.push(['SELECT', db]);
    let replies: RespReply[];
    try {
      replies = await this.exec(setup);
    } catch (err) {
      throw connectionError(endpoint, err as Error);
    }
    const auth = endpoint.password !== undefined ? replies[0] : undefined;
    if (auth instanceof RespError) throw connectionError(endpoint, new Error(auth.message));
    const selected = replies[replies.length - 1];
    if (db !== 0 && selected instanceof RespError) {
      throw new UserError(`${describeEndpoint(endpoint)}: cannot select database ${db}: ${selected.message}`);
    }
    // CLIENT SETNAME may be denied by ACLs: the name is a courtesy, not a requirement.
  }

  get where(): string {
    return describeEndpoint(this.endpoint);
  }

  get pendingCount(): number {
    return this.queue.length - this.head;
  }

  get broken(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Sends the commands in one write and resolves with their replies in order. Error replies come
   * back as RespError values; only a broken connection rejects.
   */
  exec(
    commands: readonly (readonly RespArg[])[],
    maxBulkBytes = Number.POSITIVE_INFINITY,
  ): Promise<RespReply[]> {
    return this.execEncoded(
      commands.length,
      (enc) => {
        for (const cmd of commands) enc.push(cmd);
      },
      maxBulkBytes,
    );
  }

  /**
   * Like exec, but the commands are written by `encode` straight into the encoder (templates,
   * no argument arrays): the copy hot path. `count` is the number of commands it writes.
   * `maxBulkBytes` caps the bulk-string bytes kept from the replies: a bulk string that would go
   * over it is drained from the socket and comes back as a SkippedBulk with its length, so a reply
   * of unknown size (DUMP of a key never measured) cannot hold more memory than the caller allows.
   */
  execEncoded(
    count: number,
    encode: (encoder: CommandEncoder) => void,
    maxBulkBytes = Number.POSITIVE_INFINITY,
  ): Promise<RespReply[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (count === 0) return Promise.resolve([]);
    encode(this.encoder);
    return this.execChunks(count, this.encoder.take(), maxBulkBytes);
  }

  /**
   * Sends commands already encoded (CommandEncoder.take()), e.g. the same batch to two servers:
   * verify encodes each batch once for the source and the target.
   */
  execChunks(
    count: number,
    chunks: readonly Buffer[],
    maxBulkBytes = Number.POSITIVE_INFINITY,
  ): Promise<RespReply[]> {
    if (this.failure) return Promise.reject(this.failure);
    if (count === 0) return Promise.resolve([]);
    return new Promise<RespReply[]>((resolve, reject) => {
      if (this.pendingCount === 0) this.lastActivity = Date.now();
      this.queue.push({ replies: [], expected: count, cap: maxBulkBytes, kept: 0, resolve, reject });
      const socket = this.socket;
      if (chunks.length === 1) socket.write(chunks[0]!);
      else {
        socket.cork();
        for (const chunk of chunks) socket.write(chunk);
        socket.uncork();
      }
    });
  }

  /** One command; an error reply rejects with RespCommandError. */
  async call(...args: RespArg[]): Promise<RespReply> {
    const [reply] = await this.exec([args]);
    if (reply instanceof RespError) throw new RespCommandError(reply, String(args[0]));
    return reply!;
  }

  async select(db: number): Promise<void> {
    if (db === this.db) return;
    await this.call('SELECT', db);
    this.db = db;
  }

  /** Bytes the socket has buffered but not yet sent (the kernel could not take them). */
  get writeBacklog(): number {
    return this.socket.writableLength;
  }

  /** Waits until the socket's write buffer has drained (backpressure for big writers). */
  async drained(): Promise<void> {
    if (!this.socket.writableNeedDrain || this.failure) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  /** Closes after pending replies have arrived. */
  async close(): Promise<void> {
    clearInterval(this.watchdog);
    if (this.failure) return;
    try {
      await this.exec([['QUIT']]);
    } catch {
      // Already gone.
    }
    this.destroy();
  }

  destroy(): void {
    clearInterval(this.watchdog);
    if (!this.failure) this.failure = new RespConnectionError(`connection to ${this.where} closed`);
    this.rejectAll(this.failure);
    this.socket.destroy();
  }

  private keepBulk(length: number): boolean {
    const pending = this.queue[this.head];
    // Cursors, scores, stream ids and TIME parts are always kept: a reply needs them to be read.
    if (!pending || length <= ALWAYS_KEPT_BYTES || pending.kept + length <= pending.cap) {
      if (pending) pending.kept += length;
      return true;
    }
    return false;
  }

  private onReply(reply: RespReply): void {
    const pending = this.queue[this.head];
    if (!pending) {
      this.fail(new RespConnectionError(`${this.where} sent a reply nobody asked for`));
      this.socket.destroy();
      return;
    }
    pending.replies.push(reply);
    if (pending.replies.length < pending.expected) return;
    this.queue[this.head] = undefined;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    pending.resolve(pending.replies);
  }

  private fail(err: RespConnectionError): void {
    if (!this.failure) this.failure = err;
    clearInterval(this.watchdog);
    this.rejectAll(this.failure);
  }

  private rejectAll(err: Error): void {
    const queue = this.queue;
    const head = this.head;
    this.queue = [];
    this.head = 0;
    for (let i = head; i < queue.length; i++) queue[i]?.reject(err);
  }
}

/** A connected (and, for TLS endpoints, TLS-established) socket; errors name the endpoint, never its password. */
export function openSocket(endpoint: Endpoint, timeoutMs: number): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    let socket: Socket;
    const ready = endpoint.tls ? 'secureConnect' : 'connect';
    try {
      socket = endpoint.tls
        ? tlsConnect({ host: endpoint.host, port: endpoint.port, ...tlsOptions(endpoint) })
        : netConnect({ host: endpoint.host, port: endpoint.port });
    } catch (err) {
      reject(err);
      return;
    }
    const timer = setTimeout(() => {
      socket.destroy();
      reject(noAnswerError(endpoint, timeoutMs));
    }, timeoutMs);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(connectionError(endpoint, err));
    });
  });
}
