import { inventoryItemId, type Organization } from '@music/domain';
import { itemLockName, provideFactory, RedisLocks, resolve } from '@music/platform';
import { createSyncState, DeliveryFailures, Maintenance } from '@music/sync-state';
import { eventually } from '@music/testing';
import { INTEGRATION } from '../container';
import { IntegrationHarness, settingsOf } from '../integration.test-harness';

const ours = { name: 'ours', artist: 'Local Artist', album: 'Local Album' };


describe('configuration reconciliation and a send on its way (rules 4, 8)', () => {
  let h: IntegrationHarness;
  beforeEach(async () => {
    h = new IntegrationHarness();
    // The reconciliation waits for a send under way (its entries step) up to the longest a send may
    // hold its lease: shorter here than the outbound timeout, so the held send is still on its way when it ends.
    h.overrides = (c) =>
      provideFactory(c, INTEGRATION.syncState, (c) => createSyncState({ models: resolve(c, INTEGRATION.models), locks: resolve(c, INTEGRATION.locks), sendLeaseWaitMs: 500 }));
    await h.start();
  });
  afterEach(async () => h.stop());

  /**
   * An item whose change is being sent by its deliver job (the third party took it, its answer is
   * held), with a stale inbound version held on our side (the third party's, polled before our
   * change reached it).
   */
  async function sendOnItsWay(org: Organization) {
    h.thirdParty.holdSync();
    h.thirdParty.failures.sync = { count: 1, status: 503 };
    await h.createLocal(org.id, 'x', ours);
    await eventually(async () => h.thirdParty.heldSyncs === 1, 'the first attempt (refused)');
    h.thirdParty.put({ id: 'x', name: 'theirs', artist: 'Remote Artist', album: 'Remote Album' });
    await h.pollNow(org.id);
    expect((await h.item(org.id, 'x'))?.held).toMatchObject({ op: 'upsert' });
    // The refusal is answered; the retry reaches the third party, which applies it, and its answer waits.
    h.thirdParty.releaseSync();
    h.thirdParty.holdSync();
    await eventually(async () => h.thirdParty.heldSyncs === 2, 'the second attempt to arrive');
    expect(h.thirdParty.records.get('x')).toMatchObject({ name: 'ours' });
  }

  async function settled(org: Organization) {
    h.thirdParty.releaseSync();
    await h.drainOutput();
    await eventually(async () => (await h.item(org.id, 'x'))?.state === 'synced', 'the item to settle');
  }

  it('the output webhook removed while a delivery is being sent: the send is not withdrawn under it, and both sides end with the change', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    await sendOnItsWay(org);
    await h.organizations.replace(h.ownerId, org.id, { ...settingsOf(org), webhooks: [] });
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);
    await settled(org);

    // What the third party holds is what we hold: the answer of the send it took is recorded.
    expect(h.thirdParty.records.get('x')).toMatchObject({ name: 'ours' });
    expect((await h.item(org.id, 'x'))?.data).toMatchObject({ name: 'ours' });
    const [delivery] = await h.deliveries.listForOrganization(org.id, { limit: 10 });
    expect(delivery).toMatchObject({ status: 'succeeded' });
    // The reconciliation left that item to its send, so it is not remembered as done: the next one finishes.
    const now = await h.organizations.findById(org.id);
    expect(await h.use(INTEGRATION.configurationMemory).isCurrent(now as Organization)).toBe(false);
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);
    expect(await h.use(INTEGRATION.configurationMemory).isCurrent(now as Organization)).toBe(true);
  });

  it('a switch to one-way while a delivery is being sent: the item is not settled under the send', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    await sendOnItsWay(org);
    await h.organizations.replace(h.ownerId, org.id, { ...settingsOf(org), synchronization: 'one-way' });
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);
    // Left to its send (not settled with the stale inbound version applied), whose answer settles it.
    expect(await h.item(org.id, 'x')).toMatchObject({ state: 'pending', data: { name: 'ours' } });
    await settled(org);

    expect(h.thirdParty.records.get('x')).toMatchObject({ name: 'ours' });
    expect((await h.item(org.id, 'x'))?.data).toMatchObject({ name: 'ours' });
  });
  it('a reconciliation whose store read fails in the middle of a batch gives the items\' locks back', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    // A change waiting for its answer: the switch to one-way settles it, a batch of one.
    await sendOnItsWay(org);
    h.thirdParty.releaseSync();
    await h.drainOutput();
    await h.updateLocal(org.id, 'x', { ...ours, name: 'later' }, false);
    await h.organizations.replace(h.ownerId, org.id, { ...settingsOf(org), synchronization: 'one-way' });
    const locks = new RedisLocks(h.redis, { prefix: h.prefix });
    const failingRevision = { findById: (id: string) => h.organizations.findById(id), revisionOf: async (): Promise<number | null> => Promise.reject(new Error('the store did not answer')) };
    const maintenance = new Maintenance(h.sync.items, h.sync.outbound, h.store.models, new DeliveryFailures(h.store.models), failingRevision, locks);

    await expect(maintenance.reconcileConfiguration(org.id)).rejects.toThrow('the store did not answer');
    // The item's lock is free: its other writers are not held up by the failed reconciliation.
    expect(await locks.acquire(itemLockName(inventoryItemId(org.id, 'x')), 'probe', 1000)).toBe(true);
  });
});
