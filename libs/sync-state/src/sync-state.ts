import { OrganizationRepository, type Models } from '@music/persistence';
import type { RedisLocks } from '@music/platform';
import { Divergences } from './divergences';
import { DeliveryFailures } from './failures';
import { InboundInbox } from './inbound-inbox';
import { ItemStore, type TransitionObserver } from './item-store';
import { LocalChanges } from './local-changes';
import { Maintenance } from './maintenance';
import { Outbound } from './outbound';
import { RemoteChanges } from './remote-changes';
import { StoreClock } from './store-clock';
import { WriteMarks } from './write-marks';

export interface SyncStateDeps {
  models: Models;
  /** Item locks (shared by every process through the same prefix). */
  locks: RedisLocks;
  /** Told about items becoming diverged and divergences resolved (the integration app's metrics). */
  observer?: TransitionObserver;
  /**
   * The longest a send may hold an item's send lease (the integration app's send lease TTL): how
   * long a configuration reconciliation waits for a send on its way (default: the locks' usual wait,
   * for an app that reconciles no configuration).
   */
  sendLeaseWaitMs?: number;
}

/**
 * The one writer of item state (`inventory_items`, `deliveries`, `inbound_messages`), by the
 * domain's transitions. Every app that changes items builds one and calls it; nothing else writes
 * those collections (a source scan test enforces it).
 */
export interface SyncState {
  clock: StoreClock;
  items: ItemStore;
  local: LocalChanges;
  remote: RemoteChanges;
  outbound: Outbound;
  divergences: Divergences;
  inbox: InboundInbox;
  maintenance: Maintenance;
  /** The organizations' write marks (read by polls to skip unchanged pages). */
  marks: WriteMarks;
}

export function createSyncState(deps: SyncStateDeps): SyncState {
  const clock = new StoreClock(deps.models);
  const { redis, prefix } = deps.locks.shared;
  const marks = new WriteMarks(redis, prefix, deps.models);
  // Asked after every write that creates a document of an organization (rule 8).
  const live = new OrganizationRepository(deps.models);
  const items = new ItemStore(deps.models, deps.locks, live, deps.observer, marks);
  const outbound = new Outbound(items, deps.models, live);
  const failures = new DeliveryFailures(deps.models);
  return {
    clock,
    items,
    local: new LocalChanges(items, failures),
    remote: new RemoteChanges(items, deps.models, live),
    outbound,
    divergences: new Divergences(items, outbound, deps.models, failures),
    inbox: new InboundInbox(deps.models, clock, live),
    maintenance: new Maintenance(items, outbound, deps.models, failures, live, deps.locks, { sendLeaseWaitMs: deps.sendLeaseWaitMs }),
    marks,
  };
}
