// Keeps each migration's status card (its root message) current. A refresh asks the gateway to
// update the card with content built at send time, from the migration as stored then, so however
// refreshes are coalesced or delayed (throttle, 429), the card never goes back to an older state.
// Progress of running steps arrives on pub/sub in every serve process: a short lease on the
// control Redis lets one of them refresh per interval.

import type { Subscription } from '../../runbook/audit.js';
import type { MigrationService } from '../../runbook/service.js';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { migrationCard } from '../blocks/status-card.js';
import type { DeliveryResult, MessageRef, SlackGateway } from '../gateway.js';
import { cardView } from '../migration-views.js';
import { rootOf, type SlackMessageStore } from './message-store.js';

export interface CardUpdaterOptions {
  /** Progress refreshes per card at most once per this many ms across processes (default 3000). */
  progressIntervalMs?: number;
}

const ROOT_CACHE_MAX = 2000;

export class CardUpdater {
  /** Root message per migration id (null: not a Slack migration). */
  private readonly roots = new Map<string, MessageRef | null>();
  private readonly progressIntervalMs: number;
  private progressSub: Subscription | undefined;

  constructor(
    private readonly service: MigrationService,
    private readonly gateway: SlackGateway,
    private readonly store: SlackMessageStore,
    private readonly logger: Logger,
    options: CardUpdaterOptions = {},
  ) {
    this.progressIntervalMs = options.progressIntervalMs ?? 3000;
  }

  /** Remembers where a card is (the planner knows before the migration can be read back). */
  remember(migrationId: string, root: MessageRef): void {
    this.cacheRoot(migrationId, root);
  }

  /**
   * Brings the card up to date (coalesced with other refreshes of it). Resolves once sent, or at
   * once when the migration has no card or another process has this interval's progress refresh.
   */
  async refresh(migrationId: string, options: { fromProgress?: boolean } = {}): Promise<DeliveryResult> {
    try {
      const root = await this.rootFor(migrationId);
      if (!root) return { ok: true };
      if (options.fromProgress && !(await this.store.claimRefresh(migrationId, this.progressIntervalMs))) {
        return { ok: true };
      }
      const result = await this.gateway.update(root, () => this.build(migrationId));
      if (!result.ok)
        this.logger.warn({ migrationId, error: result.error }, 'could not update the status card');
      return result;
    } catch (err) {
      this.logger.warn({ migrationId, error: errorMessage(err) }, 'could not refresh the status card');
      return { ok: false, error: errorMessage(err) };
    }
  }

  /** Refreshes cards as workers publish progress. */
  async followProgress(): Promise<void> {
    this.progressSub = await this.service.subscribeProgress((update) => {
      void this.refresh(update.migrationId, { fromProgress: true });
    });
  }

  async close(): Promise<void> {
    await this.progressSub?.close();
    this.progressSub = undefined;
  }

  private async build(migrationId: string) {
    const m = await this.service.get(migrationId);
    if (!m) return null;
    const running = m.steps.some((s) => s.status === 'running');
    const progress = running ? await this.service.progress(migrationId) : {};
    return migrationCard(cardView(m, progress));
  }

  private async rootFor(migrationId: string): Promise<MessageRef | undefined> {
    const known = this.roots.get(migrationId);
    if (known !== undefined) return known ?? undefined;
    const m = await this.service.get(migrationId);
    if (!m) return undefined;
    const root = rootOf(m);
    this.cacheRoot(migrationId, root ?? null);
    return root;
  }

  private cacheRoot(migrationId: string, root: MessageRef | null): void {
    if (this.roots.size >= ROOT_CACHE_MAX) this.roots.clear();
    this.roots.set(migrationId, root);
  }
}
