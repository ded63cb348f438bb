// Function libraries from an RDB (FUNCTION2: each library's code) onto the target with FUNCTION
// LOAD, following the non-empty-target policy: 'refuse' left a target without libraries, so a
// plain LOAD; 'replace' overwrites same-name libraries (LOAD REPLACE) and keeps the others;
// 'flush' emptied the target's libraries first.
import { printableKey } from '../../probe/printable-key.js';
import type { NonEmptyTargetPolicy } from '../copy/types.js';
import type { RespConnection } from '../resp/connection.js';
import { RespError } from '../resp/reply.js';

export interface FunctionsResult {
  libraries: number;
  loaded: number;
  /** Why libraries were not loaded (target without FUNCTION, LOAD refused), when some were not. */
  notCopied?: string;
  errors: string[];
}

export class FunctionLoader {
  readonly result: FunctionsResult = { libraries: 0, loaded: 0, errors: [] };

  constructor(
    private readonly dst: RespConnection,
    private readonly policy: NonEmptyTargetPolicy,
    /** Whether the target has FUNCTION (prepareTarget's listing was not null). */
    private readonly supported: boolean,
  ) {}

  async load(code: Buffer): Promise<void> {
    const r = this.result;
    r.libraries++;
    if (!this.supported) {
      r.notCopied = 'the target has no functions support (Redis < 7) or refuses FUNCTION';
      return;
    }
    const args =
      this.policy === 'refuse' ? ['FUNCTION', 'LOAD', code] : ['FUNCTION', 'LOAD', 'REPLACE', code];
    const [reply] = await this.dst.exec([args]);
    if (!(reply instanceof RespError)) {
      r.loaded++;
      return;
    }
    const name = /^#!\S+\s+name=(\S+)/.exec(code.subarray(0, 200).toString('latin1'))?.[1];
    r.errors.push(`library ${name ? printableKey(Buffer.from(name)) : '(unnamed)'}: ${reply.message}`);
    r.notCopied = 'FUNCTION LOAD failed on the target';
  }
}
