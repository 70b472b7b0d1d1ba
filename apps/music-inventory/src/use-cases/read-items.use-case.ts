import { Result } from '@sapphire/result';
import type { InventoryItem } from '@music/domain';
import { notFound, type AppError } from '@music/platform';
import type { InventoryPage } from '@music/persistence';
import { findOwnedItem, type InventoryUseCaseDeps } from './item-access';

export interface ListItemsQuery {
  userId: string;
  /** One organization (404 unless the caller owns it); omitted: every organization of the caller. */
  organizationId?: string;
  limit: number;
  cursor?: string;
}

/** Live items of the caller's organizations, ordered by id, one page at a time. */
export class ListItemsUseCase {
  constructor(private readonly deps: Pick<InventoryUseCaseDeps, 'organizations' | 'items'>) {}

  async execute(query: ListItemsQuery): Promise<Result<InventoryPage, AppError>> {
    let organizationIds: string[];
    if (query.organizationId !== undefined) {
      const organization = await this.deps.organizations.findOwned(query.userId, query.organizationId);
      if (!organization) return Result.err(notFound('Organization'));
      organizationIds = [organization.id];
    } else {
      organizationIds = await this.deps.organizations.ownedIds(query.userId);
    }
    const page = await this.deps.items.listForOrganizations(organizationIds, {
      limit: query.limit,
      ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    });
    return Result.ok(page);
  }
}

/** One live item of the caller's organizations. */
export class GetItemUseCase {
  constructor(private readonly deps: Pick<InventoryUseCaseDeps, 'organizations' | 'items'>) {}

  async execute(query: { userId: string; itemId: string; organizationId: string | undefined }): Promise<Result<InventoryItem, AppError>> {
    const found = await findOwnedItem(this.deps, query.userId, query.itemId, query.organizationId);
    return found.map((owned) => owned.item);
  }
}
