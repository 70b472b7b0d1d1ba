import type { Models, SyncControlDoc } from './models';
import { OrganizationRepository } from './organization.repository';

/** Whether an organization, or one of its polling entries, is paused, and why. */
export interface SyncControl {
  organizationId: string;
  /** null: the organization as a whole. */
  entryId: string | null;
  paused: boolean;
  pausedReason: string | null;
  pausedAt: Date | null;
  /** Paused by the auto-pause after consecutive failed runs. */
  pausedAutomatically: boolean;
  /** Failed runs in a row of the entry (0 after a run that did not fail). */
  consecutiveFailures: number;
  lastError: string | null;
  lastSuccessAt: Date | null;
}

const controlId = (organizationId: string, entryId: string | null): string => (entryId === null ? organizationId : `${organizationId}/${entryId}`);

const toControl = (doc: SyncControlDoc): SyncControl => ({
  organizationId: doc.organizationId,
  entryId: doc.entryId ?? null,
  paused: doc.paused ?? false,
  pausedReason: doc.pausedReason ?? null,
  pausedAt: doc.pausedAt ?? null,
  pausedAutomatically: doc.pausedAutomatically ?? false,
  consecutiveFailures: doc.consecutiveFailures ?? 0,
  lastError: doc.lastError ?? null,
  lastSuccessAt: doc.lastSuccessAt ?? null,
});

/** The controls of an organization and its polling entries with nothing recorded yet. */
export const defaultControl = (organizationId: string, entryId: string | null): SyncControl => ({
  organizationId,
  entryId,
  paused: false,
  pausedReason: null,
  pausedAt: null,
  pausedAutomatically: false,
  consecutiveFailures: 0,
  lastError: null,
  lastSuccessAt: null,
});

/**
 * Pause state and failure counters (`sync_controls`), one document per organization and per
 * polling entry: runs of one entry are serialized by its lease, so no two writers race on one
 * counter. A missing document means "not paused, nothing failed".
 */
export class SyncControlRepository {
  private readonly organizations: OrganizationRepository;

  constructor(private readonly models: Pick<Models, 'syncControls' | 'organizations'>) {
    this.organizations = new OrganizationRepository(models);
  }

  /**
   * Every write here may create a control (an upsert): the organization's controls are removed
   * again when it is no longer live (marked deleted, or gone), since a poll under way when it was
   * deleted may record its end after the purge's pass (docs/sync-model.md, "Deleting an
   * organization"). Controls are written once per run at most, so the check is always made.
   */
  private async upsert<T>(organizationId: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } finally {
      if (!(await this.organizations.isLive(organizationId))) await this.models.syncControls.deleteMany({ organizationId });
    }
  }

  /** The organization's control (entryId null) and its entries' controls that exist. */
  async listForOrganization(organizationId: string): Promise<SyncControl[]> {
    const docs = await this.models.syncControls.find({ organizationId }).lean<SyncControlDoc[]>();
    return docs.map(toControl);
  }

  /** Every control (the metrics: time since each entry's last success). */
  async listAll(limit = 100_000): Promise<SyncControl[]> {
    const docs = await this.models.syncControls.find({}).limit(limit).lean<SyncControlDoc[]>();
    return docs.map(toControl);
  }

  /** Whether the organization, or the entry (when given), is paused: the organization's pause covers every entry. */
  async isPaused(organizationId: string, entryId?: string): Promise<boolean> {
    const ids = entryId === undefined ? [controlId(organizationId, null)] : [controlId(organizationId, null), controlId(organizationId, entryId)];
    const paused = await this.models.syncControls.findOne({ _id: { $in: ids }, paused: true }, { _id: 1 }).lean();
    return paused !== null;
  }

  async setPaused(organizationId: string, entryId: string | null, pause: { reason: string | null; automatic: boolean } | null, now = new Date()): Promise<void> {
    const $set: Partial<SyncControlDoc> = pause
      ? { paused: true, pausedReason: pause.reason, pausedAt: now, pausedAutomatically: pause.automatic, updatedAt: now }
      : // A resume starts the failure count again: the next failures count towards a new auto-pause.
        { paused: false, pausedReason: null, pausedAt: null, pausedAutomatically: false, consecutiveFailures: 0, updatedAt: now };
    await this.upsert(organizationId, () => this.models.syncControls.updateOne({ _id: controlId(organizationId, entryId) }, { $set, $setOnInsert: { organizationId, entryId } }, { upsert: true }));
  }

  /** A run of the entry failed: the count of failed runs in a row, after this one. */
  async recordFailure(organizationId: string, entryId: string, error: string, now = new Date()): Promise<number> {
    const doc = await this.upsert(organizationId, () =>
      this.models.syncControls
        .findOneAndUpdate(
          { _id: controlId(organizationId, entryId) },
          { $inc: { consecutiveFailures: 1 }, $set: { lastError: error, updatedAt: now }, $setOnInsert: { organizationId, entryId, paused: false } },
          { upsert: true, returnDocument: 'after' },
        )
        .lean<SyncControlDoc>(),
    );
    return doc?.consecutiveFailures ?? 1;
  }

  /** A run of the entry ended without failing: the count starts again; a success is remembered. */
  async recordSuccess(organizationId: string, entryId: string, succeeded: boolean, now = new Date()): Promise<void> {
    await this.upsert(organizationId, () =>
      this.models.syncControls.updateOne(
        { _id: controlId(organizationId, entryId) },
        { $set: { consecutiveFailures: 0, updatedAt: now, ...(succeeded ? { lastSuccessAt: now } : {}) }, $setOnInsert: { organizationId, entryId, paused: false } },
        { upsert: true },
      ),
    );
  }

  /** A purge: every control of a deleted organization. */
  async deleteForOrganization(organizationId: string): Promise<number> {
    return (await this.models.syncControls.deleteMany({ organizationId })).deletedCount;
  }
}
