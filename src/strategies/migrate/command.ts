// The MIGRATE command and its replies. The command carries the target's password (AUTH/AUTH2):
// it is never logged, and errors about it are rebuilt from the reply text alone (ioredis attaches
// the command's arguments to its errors).
import type { Endpoint } from '../../redis/endpoint.js';
import { errorMessage } from '../../util/errors.js';

export interface MigrateCall {
  host: string;
  port: number;
  db: number;
  timeoutMs: number;
  keys: readonly Buffer[];
}

/** Arguments after MIGRATE: COPY always (the source keeps its keys), REPLACE always, KEYS form. */
export function migrateArgs(
  target: Pick<Endpoint, 'username' | 'password'>,
  call: MigrateCall,
): (string | Buffer)[] {
  const args: (string | Buffer)[] = [
    call.host,
    String(call.port),
    '',
    String(call.db),
    String(call.timeoutMs),
  ];
  args.push('COPY', 'REPLACE');
  if (target.password) {
    if (target.username && target.username !== 'default')
      args.push('AUTH2', target.username, target.password);
    else args.push('AUTH', target.password);
  }
  args.push('KEYS', ...call.keys);
  return args;
}

export type MigrateReplyKind = 'ok' | 'nokey' | 'ioerr' | 'fatal';

/** OK: sent; NOKEY: none of the keys exists any more (fine: they vanished); IOERR: retry. */
export function classifyMigrateReply(reply: unknown): { kind: MigrateReplyKind; message: string } {
  if (reply instanceof Error) {
    const message = cleanMessage(reply);
    if (/^IOERR\b/.test(message)) return { kind: 'ioerr', message };
    return { kind: 'fatal', message };
  }
  const text = Buffer.isBuffer(reply) ? reply.toString() : String(reply);
  if (text === 'OK') return { kind: 'ok', message: text };
  if (text === 'NOKEY') return { kind: 'nokey', message: text };
  return { kind: 'fatal', message: `unexpected reply: ${text.slice(0, 200)}` };
}

/** The reply text of an error, without ioredis's command details. */
export function cleanMessage(err: Error): string {
  return errorMessage(new Error(err.message.replace(/^ReplyError: /, '')));
}
