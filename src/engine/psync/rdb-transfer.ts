// The full sync's RDB as it arrives on the link: the preface (keep-alive newlines, then `$<length>`
// for a disk-backed transfer or `$EOF:<40-byte mark>` for a diskless one), the RDB bytes into the
// RDB reader (whose handler restores them; its awaits are the back-pressure), and what follows
// (the diskless mark, checked, then the first bytes of the replication stream) handed back.
import { RdbError } from '../rdb/errors.js';
import type { RdbReader } from '../rdb/reader.js';
import type { LinkReader } from './link-reader.js';

const MARK_BYTES = 40;

export interface RdbTransfer {
  /** The RDB's length for a disk-backed transfer, null for a diskless one. */
  length: number | null;
  /** Bytes received after the RDB (and its mark): the start of the replication stream. */
  rest: Buffer;
}

export async function receiveRdb(
  link: LinkReader,
  reader: RdbReader,
  onTransfer: (length: number | null) => void,
  onChunk: () => void,
): Promise<RdbTransfer> {
  const { kind, value, rest: first } = await preface(link);
  const length = kind === 'length' ? value.length : null;
  onTransfer(length);
  if (kind === 'length') {
    let left = value.length;
    let chunk = first;
    for (;;) {
      if (chunk.length > 0) {
        const take = Math.min(left, chunk.length);
        await reader.write(take === chunk.length ? chunk : chunk.subarray(0, take));
        left -= take;
        onChunk();
        if (left === 0) {
          reader.end();
          return { length, rest: chunk.subarray(take) };
        }
      }
      chunk = await link.next();
    }
  }
  const mark = value.mark;
  let chunk = first;
  for (;;) {
    if (chunk.length > 0) {
      await reader.write(chunk);
      onChunk();
      if (reader.done) {
        const trailing = reader.trailing;
        if (trailing.length >= MARK_BYTES) {
          if (!trailing.subarray(0, MARK_BYTES).equals(mark)) {
            throw new RdbError(
              'corrupt',
              'the diskless transfer does not end with its EOF mark',
              reader.offset,
            );
          }
          return { length: null, rest: trailing.subarray(MARK_BYTES) };
        }
      }
    }
    chunk = await link.next();
  }
}

type Preface =
  | { kind: 'length'; value: { length: number }; rest: Buffer }
  | { kind: 'mark'; value: { mark: Buffer }; rest: Buffer };

async function preface(link: LinkReader): Promise<Preface> {
  let head: Buffer = Buffer.alloc(0);
  for (;;) {
    let start = 0;
    while (start < head.length && head[start] === 0x0a) start++;
    head = head.subarray(start);
    const eol = head.indexOf('\r\n');
    if (eol >= 0) {
      const line = head.subarray(0, eol).toString('latin1');
      const rest = head.subarray(eol + 2);
      if (line.startsWith('$EOF:') && line.length === 5 + MARK_BYTES) {
        return { kind: 'mark', value: { mark: Buffer.from(line.slice(5), 'latin1') }, rest };
      }
      if (/^\$\d+$/.test(line)) return { kind: 'length', value: { length: Number(line.slice(1)) }, rest };
      throw new RdbError(
        'corrupt',
        `the source sent ${JSON.stringify(line.slice(0, 80))} instead of an RDB`,
        0,
      );
    }
    if (head.length > 1024) throw new RdbError('corrupt', 'the source sent no RDB transfer line', 0);
    const chunk = await link.next();
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
  }
}
