import { inventoryItemId, type Organization } from '@music/domain';
import { provideFactory, RedisLocks, resolve, type Lease } from '@music/platform';
import { createSyncState, sendLeaseName } from '@music/sync-state';
import { eventually, HeldStep } from '@music/testing';
import { INTEGRATION } from '../container';
import { OrganizationCache } from '../engine/organization-cache';
import { IntegrationHarness } from '../integration.test-harness';

const ours = { name: 'ours', artist: 'Local Artist', album: 'Local Album' };

/** The integration app's locks, waiting `waitMs` for a lock, and telling when a send lease was found taken by a batch that waits for nothing. */
class WatchedLocks extends RedisLocks {
  onBusySendLease: ((name: string) => void) | null = null;
  /** The next lease of this name is held before it is taken, while `leaseStep` holds it. */
  heldLease: string | null = null;
  readonly leaseStep = new HeldStep();

  override async lease(name: string, token: string, ttlMs: number): Promise<Lease | null> {
    if (name === this.heldLease) {
      this.heldLease = null;
      await this.leaseStep.pass();
    }
    return super.lease(name, token, ttlMs);
  }

  override async withLocks<T>(names: string[], fn: (held: ReadonlySet<string>, lease: Lease) => Promise<T>, waitMs?: number): Promise<T> {
    let busy: string[] = [];
    const result = await super.withLocks(
      names,
      async (held, lease) => {
        busy = names.filter((n) => n.startsWith(sendLeaseName('')) && !held.has(n));
        return fn(held, lease);
      },
      waitMs,
    );
    if (waitMs === 0) for (const name of busy) this.onBusySendLease?.(name);
    return result;
  }
}

/** The delivery path's organization reads, telling when one answered. */
class WatchedCache extends OrganizationCache {
  onAnswered: (() => void) | null = null;

  override async findById(id: string) {
    const org = await super.findById(id);
    this.onAnswered?.();
    return org;
  }
}

describe('a polling entry removed while an acknowledgement that lists it is on its way (row 15, rules 6, 8)', () => {
  let h: IntegrationHarness;
  let locks: WatchedLocks;
  let cache: WatchedCache;

  /**
   * The app, its locks waiting `lockWaitMs` for a lock, and a reconciliation waiting
   * `sendLeaseWaitMs` for a send on its way (default: the app's own, the send lease's TTL, longer
   * than the outbound timeout of 3 s).
   */
  async function start(lockWaitMs: number, sendLeaseWaitMs?: number): Promise<void> {
    h = new IntegrationHarness();
    h.overrides = (c) => {
      provideFactory(c, INTEGRATION.locks, (c) => {
        locks = new WatchedLocks(resolve(c, INTEGRATION.redis), { prefix: resolve(c, INTEGRATION.config).QUEUE_PREFIX, waitMs: lockWaitMs });
        return locks;
      });
      provideFactory(c, INTEGRATION.organizationCache, (c) => (cache = new WatchedCache(resolve(c, INTEGRATION.organizations))));
      if (sendLeaseWaitMs !== undefined) {
        provideFactory(c, INTEGRATION.syncState, (c) => createSyncState({ models: resolve(c, INTEGRATION.models), locks: resolve(c, INTEGRATION.locks), sendLeaseWaitMs }));
      }
    };
    await h.start();
  }
  afterEach(async () => h.stop());

  /** An organization polled by two entries; both lists hold the item, so any poll the schedules start only confirms it. */
  async function polledTwice(): Promise<Organization> {
    h.thirdParty.list('first', ['x']);
    h.thirdParty.list('second', ['x']);
    return h.createOrganization({
      polling: [
        { endpoint: `${h.thirdParty.baseUrl}/music/first`, interval: 1, type: 'hour' },
        { endpoint: `${h.thirdParty.baseUrl}/music/second`, interval: 1, type: 'hour' },
      ],
    });
  }

  /**
   * A local create whose send the third party took (its answer held): the fan-out's job read both
   * entries before the send, and its acknowledgement settles the item with them (row 15).
   */
  async function sendOnItsWay(): Promise<Organization> {
    const org = await polledTwice();
    h.thirdParty.holdSync();
    await h.createLocal(org.id, 'x', ours);
    await eventually(async () => h.thirdParty.heldSyncs === 1, 'the send to reach the third party');
    return org;
  }

  it('the acknowledgement lands after the change was reconciled: the periodic pass still takes the removed entry out of the item', async () => {
    await start(300, 300);
    const org = await sendOnItsWay();
    const second = org.polling[1]?.id;
    const removed = await h.removeFirstEntry(org, false);
    // The send's answer is held longer than the reconciliation waits for it.
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);
    h.thirdParty.releaseSync();
    await h.drainOutput();
    await eventually(async () => (await h.item(org.id, 'x'))?.state === 'synced', 'the item to settle');

    // The periodic pass, as the product runs it: only the entry that remains may list the item (rule 6).
    await h.use(INTEGRATION.reconcileAll).execute();
    expect((await h.item(org.id, 'x'))?.seenBy).toEqual([second]);
    expect(await h.use(INTEGRATION.configurationMemory).isCurrent(removed)).toBe(true);
  });

  it('the acknowledgement lands while the reconciliation waits for the send: that reconciliation takes the removed entry out, and is done', async () => {
    await start(10_000);
    const org = await sendOnItsWay();
    const second = org.polling[1]?.id;
    const removed = await h.removeFirstEntry(org, false);
    // Once the reconciliation found the item's send under way, the third party answers.
    const lease = sendLeaseName(inventoryItemId(org.id, 'x'));
    locks.onBusySendLease = (name) => {
      if (name === lease) h.thirdParty.releaseSync();
    };
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);

    expect(await h.item(org.id, 'x')).toMatchObject({ state: 'synced', seenBy: [second] });
    expect(await h.use(INTEGRATION.configurationMemory).isCurrent(removed)).toBe(true);
  });

  it('the acknowledgement lands after the lock wait, within the outbound timeout: the reconciliation still waits for it, takes the removed entry out, and is done', async () => {
    // The app's own wait for a send: a third party slower than the lock wait is waited for.
    await start(300);
    const org = await sendOnItsWay();
    const second = org.polling[1]?.id;
    const removed = await h.removeFirstEntry(org, false);
    // Once the reconciliation found the item's send under way, the third party answers a second later.
    const lease = sendLeaseName(inventoryItemId(org.id, 'x'));
    locks.onBusySendLease = (name) => {
      if (name === lease) setTimeout(() => h.thirdParty.releaseSync(), 1000);
    };
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);

    expect(await h.item(org.id, 'x')).toMatchObject({ state: 'synced', seenBy: [second] });
    expect(await h.use(INTEGRATION.configurationMemory).isCurrent(removed)).toBe(true);
  });

  it("a fan-out whose organization read would answer before the removal, its send lease taken only after the change's reconciliation: the removed entry does not come back", async () => {
    await start(300, 300);
    const org = await polledTwice();
    const second = org.polling[1]?.id;
    // The fan-out's send lease is held before it is taken...
    locks.heldLease = sendLeaseName(inventoryItemId(org.id, 'x'));
    locks.leaseStep.holdNext();
    const read = new Promise<void>((resolve) => (cache.onAnswered = resolve));
    await h.createLocal(org.id, 'x', ours);
    await locks.leaseStep.reached;
    // ...while an organization read made beside it has answered (given time to: none is made before it).
    await Promise.race([read, new Promise((resolve) => setTimeout(resolve, 500))]);
    const removed = await h.removeFirstEntry(org, false);
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);
    locks.leaseStep.letGo();
    await h.drainOutput();
    await eventually(async () => (await h.item(org.id, 'x'))?.state === 'synced', 'the item to settle');

    await h.use(INTEGRATION.reconcileAll).execute();
    expect((await h.item(org.id, 'x'))?.seenBy).toEqual([second]);
    expect(await h.use(INTEGRATION.configurationMemory).isCurrent(removed)).toBe(true);
  });
});
