import { randomUUID } from 'node:crypto';
import { contentHash, inventoryItemId, type InventoryItem, type Organization } from '@music/domain';
import { currentContext } from '@music/platform';
import type { DeliveryFailures } from './failures';
import type { Applied, ItemStore } from './item-store';
import type { NewEvent } from './transitions';

/** The organization a local write belongs to (two-way organizations keep an outbox). */
export type LocalOrganization = Pick<Organization, 'id' | 'synchronization'>;

/** What a local create did. `exists`: a live item already has this externalId in the organization. */
export type LocalCreateOutcome = { kind: 'created'; item: InventoryItem } | { kind: 'revived'; item: InventoryItem } | { kind: 'exists'; item: InventoryItem };

/**
 * What a local update or delete did. `changed`: the item was written by someone else since the
 * caller read it (read it again and retry); `not-found`: it is gone (or a tombstone).
 */
export type LocalWriteOutcome = { kind: 'written'; item: InventoryItem | null } | { kind: 'unchanged'; item: InventoryItem } | { kind: 'changed' } | { kind: 'not-found' };

/** A new outbox event; a local write happens while serving a request, whose id rides on the event. */
function newEvent(): NewEvent {
  const { requestId } = currentContext();
  return { id: randomUUID(), at: new Date(), ...(requestId ? { requestId } : {}) };
}
const twoWay = (org: LocalOrganization): boolean => org.synchronization === 'two-way';

/**
 * Local changes through the inventory API (rows 1, 4-6, 11, 19, 24, 32, 33 and their one-way
 * variants). In a two-way organization the outgoing event is stored on the item by the same
 * single-document write (`pendingEvent`); the caller then queues its fan-out.
 */
export class LocalChanges {
  constructor(
    private readonly store: ItemStore,
    private readonly failures: DeliveryFailures,
  ) {}

  async create(org: LocalOrganization, input: { externalId: string; data: Record<string, unknown> }): Promise<LocalCreateOutcome> {
    const target = { id: inventoryItemId(org.id, input.externalId), organizationId: org.id, externalId: input.externalId };
    const hash = contentHash(input.externalId, input.data);
    // Tried as an insert first (no read): a new externalId is the common case.
    const applied = await this.store.applyOne(
      target,
      (_item, context) => ({ type: 'local-create', externalId: input.externalId, data: input.data, hash, twoWay: twoWay(org), versionFloor: context.versionFloor, event: newEvent() }),
      { preread: null, needsFloor: true },
    );
    await this.replacedFailures(applied);
    if (applied.transition.outcome === 'exists') return { kind: 'exists', item: applied.before as InventoryItem };
    return { kind: applied.before ? 'revived' : 'created', item: applied.after as InventoryItem };
  }

  /** Replaces the item's data, if it is still as the caller read it (`expected`, by revision). */
  async update(org: LocalOrganization, expected: InventoryItem, data: Record<string, unknown>): Promise<LocalWriteOutcome> {
    const hash = contentHash(expected.externalId, data);
    const applied = await this.store.applyOne(
      expected,
      (item) => (item && item.rev === expected.rev ? { type: 'local-update', data, hash, twoWay: twoWay(org), event: newEvent() } : null),
      { preread: expected },
    );
    await this.replacedFailures(applied);
    return this.outcome(applied.transition.outcome, applied.after, applied.before, expected);
  }

  /** Deletes the item (two-way: a tombstone carrying the DELETE; one-way: the document goes), if still as read. */
  async delete(org: LocalOrganization, expected: InventoryItem): Promise<LocalWriteOutcome> {
    const applied = await this.store.applyOne(expected, (item) => (item && item.rev === expected.rev ? { type: 'local-delete', twoWay: twoWay(org), event: newEvent() } : null), {
      preread: expected,
    });
    await this.replacedFailures(applied);
    return this.outcome(applied.transition.outcome, applied.after, applied.before, expected);
  }

  /**
   * A new version of an item that carried a failure (diverged, or a webhook that gave up while
   * others still owed an answer): its failed deliveries can never be sent again (a replay would
   * send an older state) and the newer change has deliveries of its own, so they are `resolved`
   * (rows 11, 19, 32). Written after the item, so only a change that exists resolves them.
   */
  private async replacedFailures(applied: Applied): Promise<void> {
    const { before, transition } = applied;
    if (!before || !transition.outbox || (before.state !== 'diverged' && before.gaveUp.length === 0)) return;
    await this.failures.resolve({ itemId: before.id, belowVersion: transition.outbox.version }, `replaced by a newer change of the item (version ${transition.outbox.version})`);
  }

  private outcome(outcome: string, after: InventoryItem | null, before: InventoryItem | null, expected: InventoryItem): LocalWriteOutcome {
    if (outcome === 'updated' || outcome === 'deleted') return { kind: 'written', item: after };
    if (outcome === 'unchanged') return { kind: 'unchanged', item: before as InventoryItem };
    if (outcome === 'not-found' || !before) return { kind: 'not-found' };
    return before.rev !== expected.rev ? { kind: 'changed' } : { kind: 'not-found' };
  }
}
