import { IntegrationHarness } from '../../apps/music-integration/src/integration.test-harness';

// A delivery is finished in two writes: its outcome on the delivery, then the item told (it settles
// once every awaited webhook answered). A process killed, or a store lost, between the two leaves
// the delivery finished and the item still awaiting it; its job runs again (BullMQ retry or
// stalled-job recovery) and must tell the item. Otherwise the item reads as pending forever, and
// since a local change not yet settled wins every conflict, every later change the third party
// makes to it is held back.
// (Found by e2e/reliability/store-restarts: one item stayed pending after the store restart.)

const fields = { name: 'Song', artist: 'Artist', album: 'Album' };

describe('a delivery interrupted between recording its outcome and settling its item', () => {
  let h: IntegrationHarness;
  beforeEach(async () => {
    // No workers: the test plays the job's runs itself.
    h = await new IntegrationHarness().start({ RUN_WORKERS: 'false' });
  });
  afterEach(async () => h.stop());

  async function interruptedAfter(status: 'succeeded' | 'failed') {
    const org = await h.createOrganization();
    const item = await h.createLocal(org.id, 'x1', fields, false);
    const event = item.pendingEvent as { id: string };
    await h.engine.fanout({ version: 1, organizationId: org.id, itemId: item.id, eventId: event.id });
    const [delivery] = await h.engine.deliveries.listForOrganization(org.id, { limit: 5 });
    if (!delivery) throw new Error('no delivery');
    // The first write of the run that was interrupted: the outcome, and nothing after it (written
    // here as the writer writes it, since the point is to stop between its two writes).
    const at = new Date();
    await h.store.models.deliveries.updateOne(
      { _id: delivery.id },
      { $set: { status, attempts: 1, lastAttempts: [{ at, statusCode: status === 'succeeded' ? 200 : 422, error: null, ms: 5 }], updatedAt: at, ...(status === 'succeeded' ? { deliveredAt: at } : {}) } },
    );
    const [before] = await h.items(org.id);
    expect(before).toMatchObject({ version: 1, state: 'pending', awaiting: [delivery.webhookId] });
    return { org, delivery };
  }

  it('a succeeded delivery: the job run again settles the item (and marks it held remotely) without sending again', async () => {
    const { org, delivery } = await interruptedAfter('succeeded');
    const outcome = await h.engine.deliver(delivery.id, 2);
    expect(outcome).toMatchObject({ kind: 'done' });
    const [after] = await h.items(org.id);
    expect(after).toMatchObject({ state: 'synced', awaiting: [], remoteKnown: true, pendingEvent: null });
    expect(h.thirdParty.deliveries).toHaveLength(0);
  });

  it('a failed delivery: the job run again makes the item diverged (the webhook gave up)', async () => {
    const { org, delivery } = await interruptedAfter('failed');
    await h.engine.deliver(delivery.id, 2);
    const [after] = await h.items(org.id);
    expect(after).toMatchObject({ state: 'diverged', awaiting: [], gaveUp: [delivery.webhookId], remoteKnown: false });
    expect(h.thirdParty.deliveries).toHaveLength(0);
  });
});
