// The server half of RFC 6455, just enough for a Socket Mode client: handshake, text frames
// (fragmented or not), ping -> pong, and the close handshake. @slack/socket-mode 3 connects with
// undici's WebSocket, so the `ws` package is not installed and a dependency would buy little here.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** Completes the upgrade handshake; returns undefined (and answers 400) for a non-WebSocket request. */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex): WsConnection | undefined {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return undefined;
  }
  const accept = createHash('sha1')
    .update(key + GUID)
    .digest('base64');
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  return new WsConnection(socket);
}

/** Emits 'message' (text) and 'close'. */
export class WsConnection extends EventEmitter {
  private buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private closing = false;
  closed = false;

  constructor(private readonly socket: Duplex) {
    super();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.markClosed());
    socket.on('error', () => this.markClosed());
  }

  sendText(text: string): void {
    this.write(OP.text, Buffer.from(text, 'utf8'));
  }

  /** Starts the close handshake; the socket ends once the client answers (or at once if it is gone). */
  close(code = 1000): void {
    if (this.closing || this.closed) return;
    this.closing = true;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code, 0);
    this.write(OP.close, payload);
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Drops the connection without a close frame (a network failure). */
  destroy(): void {
    this.socket.destroy();
  }

  private write(opcode: number, payload: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    const len = payload.length;
    let head: Buffer;
    if (len < 126) {
      head = Buffer.from([0x80 | opcode, len]);
    } else if (len < 65536) {
      head = Buffer.alloc(4);
      head[0] = 0x80 | opcode;
      head[1] = 126;
      head.writeUInt16BE(len, 2);
    } else {
      head = Buffer.alloc(10);
      head[0] = 0x80 | opcode;
      head[1] = 127;
      head.writeBigUInt64BE(BigInt(len), 2);
    }
    this.socket.write(Buffer.concat([head, payload]));
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      const b0 = this.buffer[0]!;
      const b1 = this.buffer[1]!;
      let len = b1 & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (this.buffer.length < 4) return;
        len = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (this.buffer.length < 10) return;
        len = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      if (this.buffer.length < offset + (masked ? 4 : 0) + len) return;
      const mask = masked ? this.buffer.subarray(offset, offset + 4) : undefined;
      if (masked) offset += 4;
      const payload = Buffer.from(this.buffer.subarray(offset, offset + len));
      if (mask) for (let i = 0; i < payload.length; i += 1) payload[i]! ^= mask[i % 4]!;
      this.buffer = this.buffer.subarray(offset + len);
      this.onFrame((b0 & 0x80) !== 0, b0 & 0x0f, payload);
    }
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case OP.text:
      case OP.binary:
      case OP.continuation:
        this.fragments.push(payload);
        if (fin) {
          const whole = Buffer.concat(this.fragments);
          this.fragments = [];
          this.emit('message', whole.toString('utf8'));
        }
        return;
      case OP.ping:
        this.write(OP.pong, payload);
        return;
      case OP.pong:
        return;
      case OP.close:
        if (!this.closing) {
          this.closing = true;
          this.write(OP.close, payload.subarray(0, 2));
        }
        this.socket.end();
        this.markClosed();
        return;
    }
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}
