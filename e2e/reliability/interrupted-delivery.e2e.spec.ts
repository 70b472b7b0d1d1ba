import { INTEGRATION } from '../../apps/music-integration/src/container';
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

  /** One attempt of the delivery's job as the worker runs it: the outcome, or the failure. */
  const deliver = async (deliveryId: string, attemptNumber: number) => {
    const result = await h.use(INTEGRATION.deliverChange).execute({ deliveryId, attemptNumber });
    return result.isOk() ? result.unwrap() : result.unwrapErr();
  };

  async function interruptedAfter(status: 'succeeded' | 'failed') {
    const org = await h.createOrganization();
    const item = await h.createLocal(org.id, 'x1', fields, false);
    const event = item.pendingEvent as { id: string };
    // The fan-out's own first attempt fails for now (503): the delivery is left to its deliver job.
    h.thirdParty.failures.sync = { count: 1, status: 503 };
    await h.use(INTEGRATION.fanOutChange).execute({ version: 1, organizationId: org.id, itemId: item.id, eventId: event.id });
    expect(h.thirdParty.deliveries.map((d) => d.status)).toEqual([503]);
    const [delivery] = await h.deliveries.listForOrganization(org.id, { limit: 5 });
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
    const outcome = await deliver(delivery.id, 2);
    expect(outcome).toMatchObject({ kind: 'done' });
    const [after] = await h.items(org.id);
    expect(after).toMatchObject({ state: 'synced', awaiting: [], remoteKnown: true, pendingEvent: null });
    // Nothing sent after the fan-out's first attempt.
    expect(h.thirdParty.deliveries).toHaveLength(1);
  });

  it('a failed delivery: the job run again makes the item diverged (the webhook gave up)', async () => {
    const { org, delivery } = await interruptedAfter('failed');
    await deliver(delivery.id, 2);
    const [after] = await h.items(org.id);
    expect(after).toMatchObject({ state: 'diverged', awaiting: [], gaveUp: [delivery.webhookId], remoteKnown: false });
    expect(h.thirdParty.deliveries).toHaveLength(1);
  });

  it("a fan-out that sent a change's first attempt and stored the delivery, then died before the item's write: run again, it sends the same webhook-id and settles the item", async () => {
    const org = await h.createOrganization();
    const item = await h.createLocal(org.id, 'x2', fields, false);
    const job = { version: 1 as const, organizationId: org.id, itemId: item.id, eventId: (item.pendingEvent as { id: string }).id };
    // The interrupted run: the send and the delivery's record, then nothing (a process killed).
    h.thirdParty.pathFailures.set('/sync/create', { count: Infinity, status: 599 });
    const failing = await h.use(INTEGRATION.fanOutChange).execute(job);
    expect(failing).toBe('retrying');
    h.thirdParty.pathFailures.delete('/sync/create');
    const [pending] = await h.deliveries.listForOrganization(org.id, { limit: 5 });
    if (!pending) throw new Error('no delivery');
    const at = new Date();
    await h.store.models.deliveries.updateOne({ _id: pending.id }, { $set: { status: 'succeeded', attempts: 1, lastAttempts: [{ at, statusCode: 200, error: null, ms: 5 }], updatedAt: at, deliveredAt: at } });
    // ...and the item as it was before that run's write (its event still there, awaiting nothing).
    await h.store.models.inventoryItems.updateOne({ _id: item.id }, { $set: { pendingEvent: item.pendingEvent, awaiting: [] }, $inc: { rev: 1 } });

    expect(await h.use(INTEGRATION.fanOutChange).execute(job)).toBe('delivered');
    const [after] = await h.items(org.id);
    expect(after).toMatchObject({ state: 'synced', awaiting: [], remoteKnown: true, pendingEvent: null });
    const ids = h.thirdParty.deliveries.map((d) => d.webhookId);
    expect(ids).toEqual([pending.id, pending.id]);
    const [stored] = await h.deliveries.listForOrganization(org.id, { limit: 5 });
    expect(stored).toMatchObject({ id: pending.id, status: 'succeeded' });
  });
});
