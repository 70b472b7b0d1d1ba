import type { Organization, OrganizationInput, PollingEntry, Webhook } from '@music/domain';
import { newId, pollingEntryId, webhookId } from '@music/domain';
import { toOrganization } from './mappers';
import type { Models, OrganizationDoc } from './models';

/** Assigns the stable ids of webhooks and polling entries. */
export function withEntryIds(input: OrganizationInput): { webhooks: Webhook[]; polling: PollingEntry[] } {
  return {
    webhooks: input.webhooks.map((w) => ({ ...w, id: webhookId(w) })),
    polling: input.polling.map((p) => ({ ...p, id: pollingEntryId(p) })),
  };
}

/**
 * Organizations. Reads made on behalf of a user take the owner id, so a query that forgets the
 * tenant does not compile; the unscoped reads are for workers acting on an organization's behalf.
 */
export class OrganizationRepository {
  constructor(private readonly models: Pick<Models, 'organizations'>) {}

  async create(ownerId: string, input: OrganizationInput, now = new Date()): Promise<Organization> {
    const { webhooks, polling } = withEntryIds(input);
    const doc: OrganizationDoc = {
      _id: newId(),
      ownerId,
      name: input.name ?? 'Untitled organization',
      synchronization: input.synchronization,
      webhooks,
      polling,
      mappingsJson: JSON.stringify(input.mappings),
      transformsJson: JSON.stringify(input.transforms),
      revision: 1,
      createdAt: now,
      updatedAt: now,
    };
    await this.models.organizations.create(doc);
    return toOrganization(doc);
  }

  async findOwned(ownerId: string, id: string): Promise<Organization | null> {
    const doc = await this.models.organizations.findOne({ _id: id, ownerId }).lean<OrganizationDoc>();
    return doc ? toOrganization(doc) : null;
  }

  async listOwned(ownerId: string): Promise<Organization[]> {
    const docs = await this.models.organizations.find({ ownerId }).sort({ createdAt: 1, _id: 1 }).lean<OrganizationDoc[]>();
    return docs.map(toOrganization);
  }

  /** Ids of the caller's organizations (inventory listings span all of them). */
  async ownedIds(ownerId: string): Promise<string[]> {
    const docs = await this.models.organizations.find({ ownerId }, { _id: 1 }).lean<Array<{ _id: string }>>();
    return docs.map((d) => d._id);
  }

  /** Replaces the settings of an owned organization; null when it is not the caller's. */
  async replace(ownerId: string, id: string, input: OrganizationInput, now = new Date()): Promise<Organization | null> {
    const { webhooks, polling } = withEntryIds(input);
    const updated = await this.models.organizations
      .findOneAndUpdate(
        { _id: id, ownerId },
        {
          $set: {
            ...(input.name !== undefined ? { name: input.name } : {}),
            synchronization: input.synchronization,
            webhooks,
            polling,
            mappingsJson: JSON.stringify(input.mappings),
            transformsJson: JSON.stringify(input.transforms),
            updatedAt: now,
          },
          $inc: { revision: 1 },
        },
        { returnDocument: 'after' },
      )
      .lean<OrganizationDoc>();
    return updated ? toOrganization(updated) : null;
  }

  async deleteOwned(ownerId: string, id: string): Promise<Organization | null> {
    const doc = await this.models.organizations.findOneAndDelete({ _id: id, ownerId }).lean<OrganizationDoc>();
    return doc ? toOrganization(doc) : null;
  }

  /** For workers: the organization whatever its owner. */
  async findById(id: string): Promise<Organization | null> {
    const doc = await this.models.organizations.findOne({ _id: id }).lean<OrganizationDoc>();
    return doc ? toOrganization(doc) : null;
  }

  /** For the scheduler reconciliation: every organization with at least one polling entry. */
  async listWithPolling(): Promise<Organization[]> {
    // Filtered here rather than with `polling.0 $exists`, which not every supported store evaluates.
    const docs = await this.models.organizations.find({}).lean<OrganizationDoc[]>();
    return docs.filter((d) => d.polling.length > 0).map(toOrganization);
  }
}
