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
});
