// --drop-field-ttls, shared by copy, plan and migrate: one flag, one meaning.
import type { Command } from 'commander';

export const DROP_FIELD_TTLS_HELP =
  'copy hashes with per-field TTLs (HPEXPIRE) to a target without field TTLs (Redis < 7.4, Valkey < 9) ' +
  'as persistent fields: they never expire there. Without it such a copy is refused';

export function addDropFieldTtlsOption(cmd: Command): Command {
  return cmd.option('--drop-field-ttls', DROP_FIELD_TTLS_HELP);
}
