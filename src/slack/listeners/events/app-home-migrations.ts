// The App Home's migration lists: active ones first, then recent ones that have ended.
import { TERMINAL_MIGRATION_STATUSES } from '../../../runbook/model.js';
import type { MigrationService } from '../../../runbook/service.js';
import { divider } from '../../blocks/message.js';
import { migrationListBlocks } from '../../blocks/migration-list.js';
import type { KnownBlock } from '../../blocks/text.js';
import { migrationSummary } from '../../migration-views.js';

export async function homeMigrationBlocks(service: Pick<MigrationService, 'list'>): Promise<KnownBlock[]> {
  const recent = await service.list({ limit: 30 });
  const active = recent.filter((m) => !TERMINAL_MIGRATION_STATUSES.has(m.status));
  const ended = recent.filter((m) => TERMINAL_MIGRATION_STATUSES.has(m.status)).slice(0, 15);
  return [
    ...migrationListBlocks('Active migrations', active.map(migrationSummary), 8),
    divider(),
    ...migrationListBlocks('Recently ended', ended.map(migrationSummary), 6),
  ];
}
