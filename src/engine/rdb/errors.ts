// Why an RDB stream could not be read, and where. `offset` is the byte offset in the stream of the
// first byte the reader could not use (the end of the data for a truncated stream).

export type RdbErrorKind =
  /** Not an RDB at all (no `REDIS` signature). */
  | 'not-rdb'
  /** An RDB version or format this reader does not know. */
  | 'unsupported'
  /** Bytes that cannot be what the layout says (unknown type, bad encoding). */
  | 'corrupt'
  /** The stream ended before the EOF opcode and the checksum. */
  | 'truncated'
  /** The stored CRC-64 does not match the data. */
  | 'checksum'
  /** A module's data: its extent and meaning need the module. */
  | 'module'
  /** A key or value over the configured cap. */
  | 'too-big';

export class RdbError extends Error {
  constructor(
    readonly kind: RdbErrorKind,
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'RdbError';
  }
}
