// SCAN pages of one database, read one page ahead: the next SCAN is sent as soon as a page is
// handed out, so it is answered while that page is being worked on. Shared by the copy and MIGRATE
// walk (copy/scan-walk.ts) and verify (verify/scan-pages.ts); each reads replies on its own
// connection and says what a failed SCAN means for it.

/** One SCAN page: its keys and the cursor after them ('0': the database is done). */
export interface ScanPage {
  keys: Buffer[];
  cursor: string;
}

/** `SCAN cursor [MATCH pattern] COUNT n`, as the caller's connection sends it. */
export type ScanCommand = (string | number)[];

/** Sends one SCAN command on the caller's connection and reads its reply. */
export type ScanPageReader = (command: ScanCommand) => Promise<ScanPage>;

export class ScanPages {
  private ahead: Promise<ScanPage> | undefined;

  constructor(
    private readonly scan: ScanPageReader,
    cursor: string,
    private readonly match: string | undefined,
    private readonly count: number,
  ) {
    this.ahead = this.read(cursor);
    // Handled here too: a read ahead that fails while nobody awaits it must not go unhandled.
    this.ahead.catch(() => undefined);
  }

  async next(): Promise<ScanPage> {
    const page = await this.ahead!;
    this.ahead = page.cursor === '0' ? undefined : this.read(page.cursor);
    this.ahead?.catch(() => undefined);
    return page;
  }

  /** Nobody waits for the page read ahead any more (stopped, or failed elsewhere). */
  close(): void {
    this.ahead = undefined;
  }

  private async read(cursor: string): Promise<ScanPage> {
    return this.scan(scanCommand(cursor, this.match, this.count));
  }
}

export function scanCommand(cursor: string, match: string | undefined, count: number): ScanCommand {
  return match === undefined || match === ''
    ? ['SCAN', cursor, 'COUNT', count]
    : ['SCAN', cursor, 'MATCH', match, 'COUNT', count];
}
