// Streaming RDB reading (files, and the RDB part of a replication stream).
export { Crc64, crc64 } from './crc64.js';
export { RdbError, type RdbErrorKind } from './errors.js';
export { MAX_RDB_VERSION, moduleTypeName, typeName } from './format.js';
export { lzfDecompress } from './lzf.js';
export { readRdb } from './read-stream.js';
export {
  DEFAULT_MAX_VALUE_BYTES,
  type RdbEntry,
  type RdbEvent,
  type RdbHandler,
  RdbReader,
  type RdbReaderOptions,
} from './reader.js';
