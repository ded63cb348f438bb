export { type ChunkOptions, readChunks } from './chunks.js';
export { TypeChangedError } from './errors.js';
export { type KeyRead, parseEntries, readKeys, readStream } from './read.js';
export {
  emptyStreamCommands,
  fieldMap,
  nextStreamId,
  pendingCommands,
  readPendingPages,
  readStreamMeta,
  streamMetaCommands,
} from './stream.js';
export * from './value.js';
export { chunkWriteCommands, valueWriteCommands } from './write.js';
