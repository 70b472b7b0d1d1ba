import type { SyncState } from '@music/sync-state';

export interface ExpireRetainedDeps {
  sync: Pick<SyncState, 'clock' | 'maintenance' | 'inbox'>;
  /** TOMBSTONE_RETENTION_MS */
  tombstoneRetentionMs: number;
  /** INBOUND_DEDUPE_RETENTION_MS */
  inboundRetentionMs: number;
}

/** Removes settled tombstones and applied inbound messages past their retention (store clock). */
export class ExpireRetainedUseCase {
  constructor(private readonly deps: ExpireRetainedDeps) {}

  async execute(): Promise<{ tombstones: number; inboundMessages: number }> {
    const now = (await this.deps.sync.clock.now()).getTime();
    return {
      tombstones: await this.deps.sync.maintenance.expireTombstones(new Date(now - this.deps.tombstoneRetentionMs)),
      inboundMessages: await this.deps.sync.inbox.expireApplied(new Date(now - this.deps.inboundRetentionMs)),
    };
  }
}
