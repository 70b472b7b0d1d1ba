import type { Organization } from '@music/domain';
import type { OrganizationRepository } from '@music/persistence';

const MAX_ENTRIES = 1000;

/**
 * Organizations as the delivery path reads them, opened once per revision (secrets unsealed,
 * mappings parsed) instead of once per job. Exact, never stale: every read checks the stored
 * revision first (one small read by id, the organization's revision only), and every change of an
 * organization raises its revision, so a webhook edited a moment ago is used by the next delivery.
 * The org-changed events drop an organization's copy (`forget`), which keeps the cache small; they
 * are not needed for exactness.
 */
export class OrganizationCache {
  private readonly entries = new Map<string, Organization>();

  constructor(private readonly organizations: Pick<OrganizationRepository, 'findById' | 'revisionOf'>) {}

  /** The live organization as stored now (null when deleted). */
  async findById(id: string): Promise<Organization | null> {
    const cached = this.entries.get(id);
    if (!cached) return this.load(id);
    const revision = await this.organizations.revisionOf(id);
    if (revision === null) {
      this.entries.delete(id);
      return null;
    }
    if (revision === cached.revision) return cached;
    return this.load(id);
  }

  /** Drops the organization's copy (it changed, or was deleted). */
  forget(id: string): void {
    this.entries.delete(id);
  }

  private async load(id: string): Promise<Organization | null> {
    const org = await this.organizations.findById(id);
    this.entries.delete(id);
    if (!org) return null;
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(id, org);
    return org;
  }
}
