// psync: the tool connects to the source as a replica (PSYNC), restores the RDB on the target and
// then applies the replication stream, every write in order, with an offset it resumes from; the
// cutover pauses source writes and waits until the applied offset reaches the source's. For a
// source that allows PSYNC and a target that forbids REPLICAOF (a managed one).

import type { Strategy } from '../strategy.js';
import { assessPsync, psyncBecause } from './assess.js';
import { psyncExecutors } from './executors.js';
import { psyncSteps } from './steps.js';

export const psync: Strategy = {
  name: 'psync',
  summary:
    'the tool reads the source as a replica (PSYNC): the RDB restored on the target, then every write in order, ' +
    'and cuts over under a short write pause',
  copiesKeys: false,
  assess: assessPsync,
  because: psyncBecause,
  steps: psyncSteps,
  executors: psyncExecutors,
};
