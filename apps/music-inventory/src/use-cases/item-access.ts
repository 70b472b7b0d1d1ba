import { Result } from '@sapphire/result';
import type { InventoryItem, Organization } from '@music/domain';
import { addToContext, notFound, type AppError } from '@music/platform';
import type { InventoryRepository, OrganizationRepository } from '@music/persistence';
import type { LocalChanges } from '@music/sync-state';

/** What every inventory use-case works with. */
export interface InventoryUseCaseDeps {
  organizations: OrganizationRepository;
  /** Reads. */
  items: InventoryRepository;
  /** Writes: the one writer of item state. */
  local: Pick<LocalChanges, 'create' | 'update' | 'delete'>;
  publisher: { publish: (item: InventoryItem) => Promise<boolean> };
}

/** A live item the caller may touch, with the organization it belongs to. */
export interface OwnedItem {
  item: InventoryItem;
  organization: Organization;
}

/**
 * Resolves an item id for a user: it must be a live item of one of the user's organizations and,
 * when the client names an organization (`x-organization-id`), of that one. Anything else is
 * NOT_FOUND, so other tenants' ids are indistinguishable from ids that do not exist.
 */
export async function findOwnedItem(
  deps: Pick<InventoryUseCaseDeps, 'organizations' | 'items'>,
  userId: string,
  itemId: string,
  organizationId: string | undefined,
): Promise<Result<OwnedItem, AppError>> {
  if (organizationId !== undefined) {
    const organization = await deps.organizations.findOwned(userId, organizationId);
    if (!organization) return Result.err(notFound('Item'));
    addToContext({ orgId: organization.id });
    const item = await deps.items.findInOrganizations([organization.id], itemId);
    if (item) addToContext({ externalId: item.externalId });
    return item ? Result.ok({ item, organization }) : Result.err(notFound('Item'));
  }
  const owned = await deps.organizations.ownedIds(userId);
  const item = await deps.items.findInOrganizations(owned, itemId);
  if (!item) return Result.err(notFound('Item'));
  // Read after the item: its organization may have been deleted in between.
  const organization = await deps.organizations.findOwned(userId, item.organizationId);
  // The request's log lines name the organization and the record from here on.
  if (organization) addToContext({ orgId: organization.id, externalId: item.externalId });
  return organization ? Result.ok({ item, organization }) : Result.err(notFound('Item'));
}

/** Optimistic-lock attempts before a write gives up with CONFLICT. */
export const WRITE_ATTEMPTS = 3;
