import { inventoryItemId, type Organization } from '@music/domain';
import { provideFactory, RedisLocks, resolve, type Lease } from '@music/platform';
import { sendLeaseName } from '@music/sync-state';
import { eventually } from '@music/testing';
import { INTEGRATION } from '../container';
import { IntegrationHarness, settingsOf } from '../integration.test-harness';

const ours = { name: 'ours', artist: 'Local Artist', album: 'Local Album' };

/** The integration app's locks, waiting `waitMs` for a lock, and telling when a send lease was found taken by a batch that waits for nothing. */
class WatchedLocks extends RedisLocks {
  onBusySendLease: ((name: string) => void) | null = null;

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

describe('a polling entry removed while an acknowledgement that lists it is on its way (rows 15, rules 6, 8)', () => {
  let h: IntegrationHarness;
  let locks: WatchedLocks;

  /** The app, its locks waiting `lockWaitMs` for a lock (the send leases a reconciliation waits for included). */
  async function start(lockWaitMs: number): Promise<void> {
    h = new IntegrationHarness();
    h.overrides = (c) => {
      provideFactory(c, INTEGRATION.locks, (c) => {
        locks = new WatchedLocks(resolve(c, INTEGRATION.redis), { prefix: resolve(c, INTEGRATION.config).QUEUE_PREFIX, waitMs: lockWaitMs });
        return locks;
      });
    };
    await h.start();
  }
  afterEach(async () => h.stop());

  /**
   * An organization polled by two entries, and a local create whose send the third party took (its
   * answer held): the fan-out's job read both entries before the send, and its acknowledgement
   * settles the item with them (row 15). Both lists hold the item, so any poll the schedules start
   * only confirms it.
   */
  async function sendOnItsWay(): Promise<Organization> {
    h.thirdParty.list('first', ['x']);
    h.thirdParty.list('second', ['x']);
    const org = await h.createOrganization({
      polling: [
        { endpoint: `${h.thirdParty.baseUrl}/music/first`, interval: 1, type: 'hour' },
        { endpoint: `${h.thirdParty.baseUrl}/music/second`, interval: 1, type: 'hour' },
      ],
    });
    h.thirdParty.holdSync();
    await h.createLocal(org.id, 'x', ours);
    await eventually(async () => h.thirdParty.heldSyncs === 1, 'the send to reach the third party');
    return org;
  }

  /** The owner removes the first entry (its change's reconciliation is the caller's). */
  async function removeFirstEntry(org: Organization): Promise<Organization> {
    const removed = await h.organizations.replace(h.ownerId, org.id, { ...settingsOf(org), polling: org.polling.slice(1) });
    if (!removed) throw new Error('the organization was not replaced');
    return removed;
  }

  it('the acknowledgement lands after the change was reconciled: the periodic pass still takes the removed entry out of the item', async () => {
    await start(300);
    const org = await sendOnItsWay();
    const second = org.polling[1]?.id;
    const removed = await removeFirstEntry(org);
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
    const removed = await removeFirstEntry(org);
    // Once the reconciliation found the item's send under way, the third party answers.
    const lease = sendLeaseName(inventoryItemId(org.id, 'x'));
    locks.onBusySendLease = (name) => {
      if (name === lease) h.thirdParty.releaseSync();
    };
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);

    expect(await h.item(org.id, 'x')).toMatchObject({ state: 'synced', seenBy: [second] });
    expect(await h.use(INTEGRATION.configurationMemory).isCurrent(removed)).toBe(true);
  });
});
