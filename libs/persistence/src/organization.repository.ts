import type { Organization, OrganizationInput, OrganizationSettings } from '@music/domain';
import { assignEntryIds, newEntryId, newId } from '@music/domain';
import { toOrganization } from './mappers';
import type { Models, OrganizationDoc } from './models';

/** Gives every webhook and polling entry of a new organization its id. */
export function withEntryIds(input: OrganizationInput): OrganizationSettings {
  return assignEntryIds(input, null, newEntryId);
}

// A deleted organization is hidden from every read at once; its data is purged by a job.
const LIVE = { deletedAt: null };

/**
 * Organizations. Reads made on behalf of a user take the owner id, so a query that forgets the
 * tenant does not compile; the unscoped reads are for workers acting on an organization's behalf.
 * Deleted organizations (awaiting their purge) are invisible to every read except the purge's.
 */
export class OrganizationRepository {
  constructor(private readonly models: Pick<Models, 'organizations'>) {}

  async create(ownerId: string, settings: OrganizationSettings, now = new Date()): Promise<Organization> {
    const doc: OrganizationDoc = {
      _id: newId(),
      ownerId,
      name: settings.name ?? 'Untitled organization',
      synchronization: settings.synchronization,
      webhooks: settings.webhooks,
      polling: settings.polling,
      mappingsJson: JSON.stringify(settings.mappings),
      transformsJson: JSON.stringify(settings.transforms),
      revision: 1,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    };
    await this.models.organizations.create(doc);
    return toOrganization(doc);
  }

  async findOwned(ownerId: string, id: string): Promise<Organization | null> {
    const doc = await this.models.organizations.findOne({ _id: id, ownerId, ...LIVE }).lean<OrganizationDoc>();
    return doc ? toOrganization(doc) : null;
  }

  async listOwned(ownerId: string): Promise<Organization[]> {
    const docs = await this.models.organizations.find({ ownerId, ...LIVE }).sort({ createdAt: 1, _id: 1 }).lean<OrganizationDoc[]>();
    return docs.map(toOrganization);
  }

  /** Ids of the caller's organizations (inventory listings span all of them). */
  async ownedIds(ownerId: string): Promise<string[]> {
    const docs = await this.models.organizations.find({ ownerId, ...LIVE }, { _id: 1 }).lean<Array<{ _id: string }>>();
    return docs.map((d) => d._id);
  }

  /** Replaces the settings of an owned organization; null when it is not the caller's. */
  async replace(ownerId: string, id: string, settings: OrganizationSettings, now = new Date()): Promise<Organization | null> {
    const updated = await this.models.organizations
      .findOneAndUpdate(
        { _id: id, ownerId, ...LIVE },
        {
          $set: {
            ...(settings.name !== undefined ? { name: settings.name } : {}),
            synchronization: settings.synchronization,
            webhooks: settings.webhooks,
            polling: settings.polling,
            mappingsJson: JSON.stringify(settings.mappings),
            transformsJson: JSON.stringify(settings.transforms),
            updatedAt: now,
          },
          $inc: { revision: 1 },
        },
        { returnDocument: 'after' },
      )
      .lean<OrganizationDoc>();
    return updated ? toOrganization(updated) : null;
  }

  /**
   * Deletes an owned organization as users see it: hidden from every read at once (its revision
   * bumped, so consumers of org events see one more change). Its data stays until the purge job
   * removes it and then the organization itself (`removeDeleted`). Null when it is not the caller's.
   */
  async markDeleted(ownerId: string, id: string, now = new Date()): Promise<Organization | null> {
    const doc = await this.models.organizations
      .findOneAndUpdate({ _id: id, ownerId, ...LIVE }, { $set: { deletedAt: now, updatedAt: now }, $inc: { revision: 1 } }, { returnDocument: 'after' })
      .lean<OrganizationDoc>();
    return doc ? toOrganization(doc) : null;
  }

  /** For the purge: an organization marked deleted (null when it is live or gone). */
  async findDeleted(id: string): Promise<Organization | null> {
    const doc = await this.models.organizations.findOne({ _id: id, deletedAt: { $ne: null } }).lean<OrganizationDoc>();
    return doc ? toOrganization(doc) : null;
  }

  /** For the sweeper: the ids of organizations marked deleted whose purge has not finished. */
  async listDeletedIds(limit = 500): Promise<string[]> {
    const docs = await this.models.organizations.find({ deletedAt: { $ne: null } }, { _id: 1 }).limit(limit).lean<Array<{ _id: string }>>();
    return docs.map((d) => d._id);
  }

  /** The purge's last step: the organization document itself, once its data is gone. */
  async removeDeleted(id: string): Promise<boolean> {
    const result = await this.models.organizations.deleteOne({ _id: id, deletedAt: { $ne: null } });
    return result.deletedCount === 1;
  }

  /** For workers: the organization whatever its owner (null when deleted). */
  async findById(id: string): Promise<Organization | null> {
    const doc = await this.models.organizations.findOne({ _id: id, ...LIVE }).lean<OrganizationDoc>();
    return doc ? toOrganization(doc) : null;
  }

  /** For the scheduler reconciliation: every live organization with at least one polling entry. */
  async listWithPolling(): Promise<Organization[]> {
    // Filtered here rather than with `polling.0 $exists`, which not every supported store evaluates.
    const docs = await this.models.organizations.find({ ...LIVE }).lean<OrganizationDoc[]>();
    return docs.filter((d) => d.polling.length > 0).map(toOrganization);
  }

  /** For the configuration reconciliation: every live two-way or one-way organization. */
  async listLive(): Promise<Organization[]> {
    const docs = await this.models.organizations.find({ ...LIVE }).lean<OrganizationDoc[]>();
    return docs.map(toOrganization);
  }
}
