import { Result } from '@sapphire/result';
import { contentHash, type InventoryItem } from '@music/domain';
import { conflict, notFound, validationFailed, type AppError } from '@music/platform';
import { mergeData, parseItemBody } from '../item-schema';
import { findOwnedItem, WRITE_ATTEMPTS, type InventoryUseCaseDeps } from './item-access';

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
 * Otherwise one write, conditional on the item's revision as read, stores the new data and, in
 * two-way organizations, the new outbox event (rows 4, 11, 19); a concurrent write makes it read again.
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

      const outcome = await this.deps.local.update(organization, item, data);
      if (outcome.kind === 'written' && outcome.item) {
        await this.deps.publisher.publish(outcome.item);
        return Result.ok(outcome.item);
      }
      if (outcome.kind === 'unchanged') return Result.ok(outcome.item);
      if (outcome.kind === 'not-found') return Result.err(notFound('Item'));
      // Written by someone else since it was read: read it again.
    }
    return Result.err(conflict('The item changed concurrently; retry'));
  }
}
