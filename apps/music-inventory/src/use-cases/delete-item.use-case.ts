import { Result } from '@sapphire/result';
import { conflict, type AppError } from '@music/platform';
import { findOwnedItem, usesOutbox, WRITE_ATTEMPTS, type InventoryUseCaseDeps } from './item-access';

export interface DeleteItemCommand {
  userId: string;
  itemId: string;
  organizationId: string | undefined;
}

/**
 * Two-way organizations: the item becomes a tombstone carrying the DELETE event (the integration
 * app removes it once the DELETE is delivered). One-way organizations: the item is removed.
 */
export class DeleteItemUseCase {
  constructor(private readonly deps: InventoryUseCaseDeps) {}

  async execute(command: DeleteItemCommand): Promise<Result<void, AppError>> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const found = await findOwnedItem(this.deps, command.userId, command.itemId, command.organizationId);
      if (found.isErr()) return Result.err(found.unwrapErr());
      const { item, organization } = found.unwrap();

      if (!usesOutbox(organization)) {
        // Gone already means a concurrent delete won: reading again answers 404.
        if (await this.deps.items.hardDelete(organization.id, item.id)) return Result.ok(undefined);
        continue;
      }
      const tombstone = await this.deps.items.tombstone(organization.id, item.id, item.version);
      if (tombstone) {
        await this.deps.publisher.publish(tombstone);
        return Result.ok(undefined);
      }
    }
    return Result.err(conflict('The item changed concurrently; retry'));
  }
}
