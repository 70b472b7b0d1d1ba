import { pageIds } from '@music/persistence';
import { deliveryIdOf } from '@music/sync-state';
import { eventually } from '@music/testing';
import { IntegrationHarness } from '../integration.test-harness';
import { INTEGRATION } from '../container';

// docs/sync-model.md, "Deleting an organization": nothing of a deleted organization stays in the
// store, whatever was in flight when it was deleted (found by the convergence test: a fan-out's
// first attempt answered after the purge had finished stored its delivery, which nothing removed).

describe('deleting an organization with work in flight (real store, real Redis)', () => {
  let h: IntegrationHarness;
  afterEach(async () => h.stop());

  /** What remains of the organization, by collection. */
  const leftOf = async (organizationId: string) => ({
    organizations: await h.store.models.organizations.countDocuments({ _id: organizationId }),
    items: await h.store.models.inventoryItems.countDocuments({ organizationId }),
    deliveries: await h.store.models.deliveries.countDocuments({ organizationId }),
    inboundMessages: await h.store.models.inboundMessages.countDocuments({ organizationId }),
  });

  it("a fan-out's first attempt answered after the purge finished leaves no delivery behind", async () => {
    h = await new IntegrationHarness().start({ PURGE_RECHECK_MS: '100' });
    const org = await h.createOrganization({ polling: [] });
    h.thirdParty.holdSync();
    await h.createLocal(org.id, 'k1', { name: 'Mine', artist: 'A', album: 'B' });
    await eventually(async () => h.thirdParty.heldSyncs === 1, "the fan-out's first attempt at the third party");

    // As music-config deletes it: marked deleted, then its change event queues the purge.
    await h.organizations.markDeleted(h.ownerId, org.id);
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);
    await eventually(async () => (await leftOf(org.id)).organizations === 0, 'the purge to finish');

    // The third party answers now: the attempt records what it sent, after the purge.
    h.thirdParty.releaseSync();
    await eventually(async () => h.thirdParty.deliveries.length === 1, 'the answer of the first attempt');
    await h.drainOutput();
    expect(await leftOf(org.id)).toEqual({ organizations: 0, items: 0, deliveries: 0, inboundMessages: 0 });
  });

  it('a fan-out job run again after the purge removes the delivery an earlier run of it left behind', async () => {
    h = await new IntegrationHarness().start();
    const org = await h.createOrganization({ polling: [] });
    const webhook = org.webhooks.find((w) => w.type === 'output');
    if (!webhook) throw new Error('no output webhook');
    const item = await h.createLocal(org.id, 'k1', { name: 'Mine', artist: 'A', album: 'B' }, false);
    const eventId = item.pendingEvent?.id as string;
    await h.organizations.markDeleted(h.ownerId, org.id);
    await h.sync.maintenance.purgeOrganization(org.id);
    // What an earlier run of the job stored after the purge's pass, its item write and its own
    // check then failing (the store unreachable a moment), before the job was tried again.
    await h.store.models.deliveries.collection.insertOne({ _id: deliveryIdOf(eventId, webhook.id), organizationId: org.id, itemId: item.id, eventId, webhookId: webhook.id, status: 'pending' } as never);

    expect(await h.use(INTEGRATION.fanOutChange).execute({ version: 1, organizationId: org.id, itemId: item.id, eventId })).toBe('stale');
    expect(await leftOf(org.id)).toMatchObject({ items: 0, deliveries: 0 });
  });

  /** An organization with a polling entry, marked deleted as music-config does it, then one pass of its purge. */
  const deletedAndPurged = async () => {
    h = await new IntegrationHarness().start();
    const org = await h.createOrganization();
    const entry = org.polling[0];
    if (!entry) throw new Error('no polling entry');
    await h.organizations.markDeleted(h.ownerId, org.id);
    await h.sync.maintenance.purgeOrganization(org.id);
    return { org, entry };
  };

  it("a poll under way records its memory and its end after the purge's pass: neither is kept", async () => {
    const { org, entry } = await deletedAndPurged();

    const memory = h.use(INTEGRATION.pollMemory);
    const controls = h.use(INTEGRATION.syncControls);
    await memory.ensureHead(org.id, entry.id);
    const page = { index: 0, fingerprint: 'f', bodyHash: null, etag: null, lastModified: null, next: null, fetched: 1, total: 1, first: '1', last: '1', trimmed: false, ...pageIds(['1']) };
    await memory.savePages(org.id, entry.id, [page]);
    await controls.recordFailure(org.id, entry.id, 'HTTP 500');
    await controls.recordSuccess(org.id, entry.id, true);
    await controls.setPaused(org.id, entry.id, { reason: 'failing', automatic: true });
    expect(await h.store.models.pollMemory.countDocuments({ organizationId: org.id })).toBe(0);
    expect(await h.store.models.syncControls.countDocuments({ organizationId: org.id })).toBe(0);
  });

  it("a scheduled poll that read its organization before the delete records no run after the purge's pass", async () => {
    const { org, entry } = await deletedAndPurged();

    await h.runs.createQueued(org.id, entry, 'schedule');
    expect(await h.store.models.syncRuns.countDocuments({ organizationId: org.id })).toBe(0);
  });
});
