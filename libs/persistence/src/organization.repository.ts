import type { Organization, OrganizationInput, OrganizationSettings } from '@music/domain';
import { assignEntryIds, newEntryId, newId } from '@music/domain';
import type { SecretBox } from '@music/platform';
import { toOrganization } from './mappers';
import { collectionOf, type Models, type OrganizationDoc } from './models';
import { openNotification, openPolling, openWebhook, sealNotification, sealPolling, sealWebhook } from './organization-secrets';

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
 *
 * With a SecretBox, webhook secrets and polling credentials are sealed when written and opened when
 * read. Without one (an app that only checks ownership), organizations are read without their
 * secrets, and writing one is a bug.
 */
export class OrganizationRepository {
  constructor(
    private readonly models: Pick<Models, 'organizations'>,
    private readonly secrets?: SecretBox,
  ) {}

  /** The settings as stored: secrets sealed, mappings and transforms as JSON text (see OrganizationDoc). */
  private stored(settings: OrganizationSettings): Pick<Required<OrganizationDoc>, 'synchronization' | 'webhooks' | 'polling' | 'notifications' | 'mappingsJson' | 'transformsJson'> {
    const box = this.secrets;
    if (!box) throw new Error('OrganizationRepository: writing an organization needs a SecretBox');
    return {
      synchronization: settings.synchronization,
      webhooks: settings.webhooks.map((w) => sealWebhook(w, box)),
      polling: settings.polling.map((p) => sealPolling(p, box)),
      notifications: (settings.notifications ?? []).map((n) => sealNotification(n, box)),
      mappingsJson: JSON.stringify(settings.mappings),
      transformsJson: JSON.stringify(settings.transforms),
    };
  }

  private opened(doc: OrganizationDoc): Organization {
    const org = toOrganization(doc);
    return {
      ...org,
      webhooks: org.webhooks.map((w) => openWebhook(w, this.secrets)),
      polling: org.polling.map((p) => openPolling(p, this.secrets)),
      notifications: org.notifications.map((n) => openNotification(n, this.secrets)),
    };
  }

  /** How many organizations the owner has (the per-account quota). */
  async countOwned(ownerId: string): Promise<number> {
    return this.models.organizations.countDocuments({ ownerId, ...LIVE });
  }

  async create(ownerId: string, settings: OrganizationSettings, now = new Date()): Promise<Organization> {
    const doc: OrganizationDoc = {
      _id: newId(),
      ownerId,
      name: settings.name ?? 'Untitled organization',
      ...this.stored(settings),
      revision: 1,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    };
    await this.models.organizations.create(doc);
    return this.opened(doc);
  }

  async findOwned(ownerId: string, id: string): Promise<Organization | null> {
    const doc = await this.models.organizations.findOne({ _id: id, ownerId, ...LIVE }).lean<OrganizationDoc>();
    return doc ? this.opened(doc) : null;
  }

  async listOwned(ownerId: string): Promise<Organization[]> {
    const docs = await this.models.organizations.find({ ownerId, ...LIVE }).sort({ createdAt: 1, _id: 1 }).lean<OrganizationDoc[]>();
    return docs.map((d) => this.opened(d));
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
            ...this.stored(settings),
            updatedAt: now,
          },
          $inc: { revision: 1 },
        },
        { returnDocument: 'after' },
      )
      .lean<OrganizationDoc>();
    return updated ? this.opened(updated) : null;
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
    return doc ? this.opened(doc) : null;
  }

  /** For the purge: an organization marked deleted (null when it is live or gone). */
  async findDeleted(id: string): Promise<Organization | null> {
    const doc = await this.models.organizations.findOne({ _id: id, deletedAt: { $ne: null } }).lean<OrganizationDoc>();
    return doc ? this.opened(doc) : null;
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

  /**
   * For workers' caches: the revision of a live organization (null when deleted or gone). Every
   * change of an organization raises it, so a copy of the same revision is the organization as stored.
   */
  async revisionOf(id: string): Promise<number | null> {
    const doc = await collectionOf(this.models.organizations).findOne<{ revision: number }>({ _id: id, ...LIVE }, { projection: { _id: 0, revision: 1 } });
    return doc ? doc.revision : null;
  }

  /**
   * Whether the organization is live: not marked deleted, not gone (docs/sync-model.md, "Deleting an
   * organization"). Every write that creates a document of an organization asks it afterwards and
   * removes what it created when not: the organization is marked before its purge removes anything,
   * so a document created meanwhile is removed by the purge or by its own writer.
   */
  async isLive(id: string): Promise<boolean> {
    return (await this.revisionOf(id)) !== null;
  }

  /** For workers: the organization whatever its owner (null when deleted). */
  async findById(id: string): Promise<Organization | null> {
    const doc = await this.models.organizations.findOne({ _id: id, ...LIVE }).lean<OrganizationDoc>();
    return doc ? this.opened(doc) : null;
  }

  /** For the scheduler reconciliation: every live organization with at least one polling entry. */
  async listWithPolling(): Promise<Organization[]> {
    // Filtered here rather than with `polling.0 $exists`, which not every supported store evaluates.
    const docs = await this.models.organizations.find({ ...LIVE }).lean<OrganizationDoc[]>();
    return docs.filter((d) => d.polling.length > 0).map((d) => this.opened(d));
  }

  /** For the configuration reconciliation: every live two-way or one-way organization. */
  async listLive(): Promise<Organization[]> {
    const docs = await this.models.organizations.find({ ...LIVE }).lean<OrganizationDoc[]>();
    return docs.map((d) => this.opened(d));
  }
}
