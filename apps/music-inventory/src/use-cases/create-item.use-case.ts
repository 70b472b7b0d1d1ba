import { Result } from '@sapphire/result';
import type { InventoryItem } from '@music/domain';
import { addToContext, conflict, notFound, type AppError } from '@music/platform';
import { parseItemBody } from '../item-schema';
import type { InventoryUseCaseDeps } from './item-access';

export interface CreateItemCommand {
  userId: string;
  organizationId: string;
  body: unknown;
}

/**
 * Creates an item in one of the caller's organizations (rows 1, 24, 32, 33 of the state table). In
 * a two-way organization the outgoing event is stored on the item by the same write, then handed to
 * the fanout queue; a tombstone of the same externalId is revived.
 */
export class CreateItemUseCase {
  constructor(private readonly deps: InventoryUseCaseDeps) {}

  async execute(command: CreateItemCommand): Promise<Result<InventoryItem, AppError>> {
    const organization = await this.deps.organizations.findOwned(command.userId, command.organizationId);
    if (!organization) return Result.err(notFound('Organization'));

    const parsed = parseItemBody(organization.mappings, 'create', command.body);
    if (parsed.isErr()) return Result.err(parsed.unwrapErr());
    const { externalId, data } = parsed.unwrap();
    if (externalId === undefined) throw new Error('create schema returned no externalId');
    addToContext({ externalId });

    const outcome = await this.deps.local.create(organization, { externalId, data });
    switch (outcome.kind) {
      case 'exists':
        return Result.err(conflict('externalId already exists in this organization'));
      case 'created':
      case 'revived':
        await this.deps.publisher.publish(outcome.item);
        return Result.ok(outcome.item);
      default: {
        const unreachable: never = outcome;
        throw new Error(`unhandled outcome ${JSON.stringify(unreachable)}`);
      }
    }
  }
}
