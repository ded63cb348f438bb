// Feeds a whole byte stream (a file's read stream, any async iterable of Buffers) to an RdbReader,
// one chunk at a time: the next chunk is read only once the last one's events are handled.
import { type RdbHandler, RdbReader, type RdbReaderOptions } from './reader.js';

export async function readRdb(
  source: AsyncIterable<Buffer>,
  handler: RdbHandler,
  options: RdbReaderOptions = {},
): Promise<RdbReader> {
  const reader = new RdbReader(handler, options);
  for await (const chunk of source) await reader.write(chunk);
  reader.end();
  return reader;
}
