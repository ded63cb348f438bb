export { type CommandRunner, RespConnection, type RespConnectOptions } from './connection.js';
export { CommandEncoder } from './encoder.js';
export { ReplyParser } from './parser.js';
export {
  isRespError,
  type RespArg,
  RespCommandError,
  RespConnectionError,
  RespError,
  type RespReply,
  replyInt,
  replyText,
} from './reply.js';
