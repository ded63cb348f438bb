// Findings that do not stop the plan but that the people running it should know about.

import { fieldTtlWarnings } from '../field-ttls.js';
import { clusterWarnings } from '../topology.js';
import type { Finding } from '../types.js';
import { cutoverWarnings } from './cutover.js';
import { dataWarnings } from './data.js';
import type { WarningInput } from './input.js';
import { targetWarnings } from './target.js';

export type { WarningInput } from './input.js';

export function findWarnings(input: WarningInput): Finding[] {
  return [
    ...targetWarnings(input),
    ...dataWarnings(input),
    ...fieldTtlWarnings(input.ctx),
    ...cutoverWarnings(input),
    ...clusterWarnings(input.ctx),
  ];
}
