import { Result } from '@sapphire/result';
import type { Organization, OrganizationSettings } from '@music/domain';
import { quotaExceeded, type AppError, type RedisLocks } from '@music/platform';
import type { OrganizationRepository } from '@music/persistence';

/** The per-account quotas music-config enforces when organizations are written. */
export interface OrganizationQuotaSettings {
  organizationsPerUser: number;
  pollingEntriesPerOrganization: number;
  pagesPerRun: number;
}

/**
 * Polling quotas of a body: entries per organization, and `maxPages` per entry. Judged against what
 * is stored, so lowering a quota never makes an organization unwritable: a count that did not grow,
 * and an entry stored before with the same `maxPages`, pass.
 */
export function checkPollingQuotas(input: Pick<OrganizationSettings, 'polling'>, stored: Organization | null, quotas: OrganizationQuotaSettings): Result<void, AppError> {
  const storedCount = stored?.polling.length ?? 0;
  if (input.polling.length > quotas.pollingEntriesPerOrganization && input.polling.length > storedCount) {
    return Result.err(
      quotaExceeded(`At most ${quotas.pollingEntriesPerOrganization} polling entries per organization`, {
        name: 'QUOTA_POLLING_ENTRIES_PER_ORGANIZATION',
        value: quotas.pollingEntriesPerOrganization,
      }),
    );
  }
  const storedPages = new Map((stored?.polling ?? []).map((p) => [p.id, p.pagination?.maxPages]));
  for (const entry of input.polling) {
    const maxPages = entry.pagination?.maxPages;
    if (maxPages === undefined || maxPages <= quotas.pagesPerRun || storedPages.get(entry.id) === maxPages) continue;
    return Result.err(quotaExceeded(`At most ${quotas.pagesPerRun} pages per poll run (maxPages)`, { name: 'QUOTA_PAGES_PER_RUN', value: quotas.pagesPerRun }));
  }
  return Result.ok(undefined);
}

/**
 * Organizations per account: counted and created under a lock per owner, so concurrent creates
 * cannot pass the count together (the lock fails open when Redis is down, as every lock does).
 */
export class OrganizationsPerOwner {
  constructor(
    private readonly organizations: OrganizationRepository,
    private readonly locks: RedisLocks,
    private readonly limit: number,
  ) {}

  async withRoomFor<T>(ownerId: string, create: () => Promise<T>): Promise<Result<T, AppError>> {
    return this.locks.withLock(`organizations-of:${ownerId}`, async () => {
      if ((await this.organizations.countOwned(ownerId)) >= this.limit) {
        return Result.err(quotaExceeded(`At most ${this.limit} organizations per account`, { name: 'QUOTA_ORGANIZATIONS_PER_USER', value: this.limit }));
      }
      return Result.ok(await create());
    });
  }
}
