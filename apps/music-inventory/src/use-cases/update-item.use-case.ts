import { Result } from '@sapphire/result';
import { contentHash, type InventoryItem } from '@music/domain';
import { conflict, validationFailed, type AppError } from '@music/platform';
import { mergeData, parseItemBody } from '../item-schema';
import { findOwnedItem, usesOutbox, WRITE_ATTEMPTS, type InventoryUseCaseDeps } from './item-access';

export interface UpdateItemCommand {
  userId: string;
  itemId: string;
  /** `x-organization-id` when the client sent it. */
  organizationId: string | undefined;
  body: unknown;
}

/**
 * PUT (`replace`: the body is the new set of fields) and PATCH (`merge`: fields present replace,
 * `null` removes). A change that leaves the content hash as it is writes nothing and emits nothing.
 * Otherwise one conditional write (on the version and hash that were read) stores the new data and,
 * in two-way organizations, the new outbox event; a concurrent write makes it read again.
 */
export class UpdateItemUseCase {
  constructor(
    private readonly deps: InventoryUseCaseDeps,
    private readonly mode: 'replace' | 'merge',
  ) {}

  async execute(command: UpdateItemCommand): Promise<Result<InventoryItem, AppError>> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const found = await findOwnedItem(this.deps, command.userId, command.itemId, command.organizationId);
      if (found.isErr()) return Result.err(found.unwrapErr());
      const { item, organization } = found.unwrap();

      const parsed = parseItemBody(organization.mappings, this.mode, command.body);
      if (parsed.isErr()) return Result.err(parsed.unwrapErr());
      const body = parsed.unwrap();
      if (body.externalId !== undefined && body.externalId !== item.externalId) {
        return Result.err(validationFailed([{ path: 'externalId', message: 'externalId cannot change: it is the sync key' }]));
      }

      const data = this.mode === 'replace' ? body.data : mergeData(item.data, body.data);
      if (contentHash(item.externalId, data) === item.hash) return Result.ok(item);

      const updated = await this.deps.items.updateLocal(organization.id, item.id, item, data, { outbox: usesOutbox(organization) });
      if (updated) {
        await this.deps.publisher.publish(updated);
        return Result.ok(updated);
      }
    }
    return Result.err(conflict('The item changed concurrently; retry'));
  }
}
