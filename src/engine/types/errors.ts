import { printableKey } from '../../probe/printable-key.js';

/** The key changed type between two reads (it was deleted and recreated meanwhile). */
export class TypeChangedError extends Error {
  constructor(readonly key: Buffer) {
    super(`key ${printableKey(key)} changed type while being read`);
    this.name = 'TypeChangedError';
  }
}
