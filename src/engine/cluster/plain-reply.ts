import type { RespReply } from '../resp/reply.js';

/** RESP reply -> plain values (bulk strings as text), as the topology parsers read them. */
export function plain(reply: RespReply): unknown {
  if (Array.isArray(reply)) return reply.map(plain);
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  return reply;
}
