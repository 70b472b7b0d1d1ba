import { Result } from '@sapphire/result';
import { itemStateOf, type Delivery, type HeldChange, type InventoryItem, type Organization } from '@music/domain';
import type { AppError } from '@music/platform';
import type { InventoryRepository } from '@music/persistence';
import type { DeliveryRepository } from '../../delivery/delivery.repository';

/** One diverged item as the API shows it: ours, what the third party said meanwhile, what failed. */
export interface Divergence {
  externalId: string;
  state: 'diverged' | 'delete-diverged';
  data: Record<string, unknown>;
  version: number;
  held: { op: HeldChange['op']; data: Record<string, unknown> | null; at: Date } | null;
  failedDeliveries: Array<Pick<Delivery, 'id' | 'webhookId' | 'method' | 'op' | 'attempts' | 'lastError' | 'updatedAt'>>;
}

export interface ListDivergencesCommand {
  /** An organization the caller owns. */
  organization: Organization;
  limit: number;
}

/**
 * `GET /organization/:id/divergences` (rule 5): local changes the third party never took, each with
 * what the third party said meanwhile and the deliveries that failed.
 */
export class ListDivergencesUseCase {
  constructor(private readonly deps: { items: InventoryRepository; deliveries: DeliveryRepository }) {}

  async execute(command: ListDivergencesCommand): Promise<Result<{ items: Divergence[] }, AppError>> {
    const items = await this.deps.items.listInStates(command.organization.id, ['diverged'], command.limit);
    const listed: Divergence[] = [];
    for (const item of items) listed.push(divergenceOf(item, await this.deps.deliveries.listForItem(item.id, item.version)));
    return Result.ok({ items: listed });
  }
}

function divergenceOf(item: InventoryItem, deliveries: Delivery[]): Divergence {
  return {
    externalId: item.externalId,
    state: itemStateOf(item) as Divergence['state'],
    data: item.data,
    version: item.version,
    held: item.held ? { op: item.held.op, data: item.held.data, at: item.held.at } : null,
    failedDeliveries: deliveries
      .filter((d) => d.status === 'failed')
      .map((d) => ({ id: d.id, webhookId: d.webhookId, method: d.method, op: d.op, attempts: d.attempts, lastError: d.lastError, updatedAt: d.updatedAt })),
  };
}
