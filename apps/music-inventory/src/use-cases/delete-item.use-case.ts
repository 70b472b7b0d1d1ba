import { Result } from '@sapphire/result';
import { conflict, notFound, type AppError } from '@music/platform';
import { findOwnedItem, WRITE_ATTEMPTS, type InventoryUseCaseDeps } from './item-access';

export interface DeleteItemCommand {
  userId: string;
  itemId: string;
  organizationId: string | undefined;
}

/**
 * Two-way organizations: the item becomes a tombstone carrying the DELETE event (rows 6, 11, 19);
 * it stays until the DELETE is acknowledged and its tombstone expires. One-way organizations: the
 * item is removed.
 */
export class DeleteItemUseCase {
  constructor(private readonly deps: InventoryUseCaseDeps) {}

  async execute(command: DeleteItemCommand): Promise<Result<void, AppError>> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const found = await findOwnedItem(this.deps, command.userId, command.itemId, command.organizationId);
      if (found.isErr()) return Result.err(found.unwrapErr());
      const { item, organization } = found.unwrap();
      const outcome = await this.deps.local.delete(organization, item);
      switch (outcome.kind) {
        case 'written':
          if (outcome.item) await this.deps.publisher.publish(outcome.item);
          return Result.ok(undefined);
        case 'not-found':
          return Result.err(notFound('Item'));
        case 'unchanged':
        case 'changed':
          // Written by someone else since it was read: read it again.
          continue;
        default: {
          const unreachable: never = outcome;
          throw new Error(`unhandled outcome ${JSON.stringify(unreachable)}`);
        }
      }
    }
    return Result.err(conflict('The item changed concurrently; retry'));
  }
}
