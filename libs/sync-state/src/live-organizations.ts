import { OrganizationRepository, type Models } from '@music/persistence';

/**
 * Whether an organization is live: not marked deleted, not gone (docs/sync-model.md, "Deleting an
 * organization"). The writer asks after every write that creates a document of an organization and
 * removes what it created when it is not: the organization is marked before its purge removes
 * anything, so a document created meanwhile is removed by the purge or by its own writer.
 */
export class LiveOrganizations {
  private readonly organizations: OrganizationRepository;

  constructor(models: Pick<Models, 'organizations'>) {
    this.organizations = new OrganizationRepository(models);
  }

  async isLive(organizationId: string): Promise<boolean> {
    return (await this.organizations.revisionOf(organizationId)) !== null;
  }
}
