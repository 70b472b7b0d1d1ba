import { inventoryItemId, type Organization } from '@music/domain';
import { withEntryIds } from '@music/persistence';
import { itemLockName, provideFactory, RedisLocks, resolve } from '@music/platform';
import { DeliveryFailures, Maintenance } from '@music/sync-state';
import { eventually, Gate, HeldStep } from '@music/testing';
import { INTEGRATION } from '../container';
import { IntegrationHarness, settingsOf } from '../integration.test-harness';
import { ConfigurationMemory } from './configuration-memory';
import { ReconcileAllUseCase } from './use-cases/reconcile-all.use-case';

/**
 * Holds the next reconciliation of one organization's configuration until released: the
 * reconciliation (an org-changed event's, or the periodic one) has read the organization and applies
 * that read to its pending work; holding it stretches the moment between that read and the
 * cancellations it decides, as a busy worker or a long periodic pass over many organizations does.
 */
class HeldConfiguration extends ConfigurationMemory {
  readonly step = new HeldStep();
  heldFor: string | null = null;
  /** Settles when the held reconciliation ended. */
  done: Promise<void> = Promise.resolve();

  override async reconcile(org: Organization): Promise<void> {
    if (this.heldFor !== org.id) return super.reconcile(org);
    this.heldFor = null;
    let ended: () => void = () => undefined;
    this.done = new Promise((resolve) => (ended = resolve));
    await this.step.pass();
    try {
      await super.reconcile(org);
    } finally {
      ended();
    }
  }
}

const ours = { name: 'ours', artist: 'Local Artist', album: 'Local Album' };

/**
 * The one writer's configuration reconciliation with its read of the organization held until
 * released: the reconciliation has read the organization (after listing the pending deliveries)
 * and is about to apply it, as a busy worker may be for a while.
 */
function heldReconciliation(h: IntegrationHarness) {
  const gate = new Gate();
  gate.close();
  let reachedNow: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => (reachedNow = resolve));
  const organizations = {
    findById: async (id: string) => {
      const org = await h.organizations.findById(id);
      reachedNow();
      await gate.wait();
      return org;
    },
    revisionOf: (id: string) => h.organizations.revisionOf(id),
  };
  const maintenance = new Maintenance(h.sync.items, h.sync.outbound, h.store.models, new DeliveryFailures(h.store.models), organizations, new RedisLocks(h.redis, { prefix: h.prefix }));
  return { maintenance, reached, letGo: () => gate.open() };
}


describe('configuration reconciliation: pending work follows the configuration as it is, not as it was read (rule 8, rule 4)', () => {
  let h: IntegrationHarness;
  let configuration: HeldConfiguration;

  beforeEach(async () => {
    h = new IntegrationHarness();
    h.overrides = (c) => {
      provideFactory(c, INTEGRATION.configurationMemory, (c) => {
        configuration = new HeldConfiguration({
          sync: resolve(c, INTEGRATION.syncState),
          redis: resolve(c, INTEGRATION.redis),
          prefix: resolve(c, INTEGRATION.config).QUEUE_PREFIX,
          logger: resolve(c, INTEGRATION.logger),
        });
        return configuration;
      });
    };
    // A delivery's second attempt waits some seconds (4.8 to 7.2): the held reconciliation ends well before it.
    await h.start({ DELIVERY_BACKOFF_BASE_MS: '6000' });
  });
  afterEach(async () => h.stop());

  it('a reconciliation that read the organization before its output webhook was replaced does not cancel a change on its way to the new webhook', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    // A reconciliation of the organization reads it (webhook /sync/create), then is held...
    configuration.heldFor = org.id;
    configuration.step.holdNext();
    const reconciling = h.use(INTEGRATION.reconcileOrganization).execute(org.id);
    await configuration.step.reached;

    // ...while the owner moves the output webhook to a new endpoint (a new webhook, a new id)...
    const { id: _id, ownerId: _owner, revision: _r, createdAt: _c, updatedAt: _u, ...settings } = org;
    const moved = await h.organizations.replace(h.ownerId, org.id, withEntryIds({ ...settings, webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/v2`, method: 'POST' }] }));
    const webhook = moved?.webhooks[0];
    if (!webhook) throw new Error('the organization was not replaced');
    // ...and makes a change, whose delivery to the new webhook meets a brief outage (pending, retried).
    h.thirdParty.failPath('/sync/v2', 503, 1);
    await h.createLocal(org.id, 'x', ours);
    const deliveryOf = async () => (await h.deliveries.listForOrganization(org.id, { limit: 10 })).find((d) => d.externalId === 'x');
    await eventually(async () => (await deliveryOf())?.attempts === 1, 'the first attempt to the new webhook');
    expect(await deliveryOf()).toMatchObject({ status: 'pending', webhookId: webhook.id });

    configuration.step.letGo();
    await configuration.done;
    await reconciling;
    await h.drainOutput(30_000);
    await eventually(async () => (await h.item(org.id, 'x'))?.state === 'synced', 'the item to settle');

    // The new webhook exists: its delivery is not cancelled as if it had been removed, and our
    // change reaches the third party (settled means the webhook answered: rule 4).
    expect(await deliveryOf()).toMatchObject({ status: 'succeeded', webhookId: webhook.id });
    expect(h.thirdParty.records.get('x')).toMatchObject({ name: 'ours' });
    expect((await h.item(org.id, 'x'))?.remoteKnown).toBe(true);
  });

  it('a reconciliation that read the organization one-way, applied after the owner switched back to two-way, neither drops a change made since nor resolves its failure (rules 4, 5, 8)', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    const deliveryOf = async (externalId: string) => (await h.deliveries.listForOrganization(org.id, { limit: 10 })).find((d) => d.externalId === externalId);
    // The owner switches to one-way; its reconciliation reads the organization (one-way) and is held...
    await h.organizations.replace(h.ownerId, org.id, { ...settingsOf(org), synchronization: 'one-way' });
    const held = heldReconciliation(h);
    const reconciling = held.maintenance.reconcileConfiguration(org.id);
    await held.reached;

    // ...while the owner switches back to two-way, and two changes are made: one the webhook
    // refuses for good (a failure a person must see), one whose first attempt meets an outage.
    await h.organizations.replace(h.ownerId, org.id, settingsOf(org));
    h.thirdParty.failPath('/sync/create', 400, 1);
    await h.createLocal(org.id, 'refused', ours);
    await eventually(async () => (await deliveryOf('refused'))?.status === 'failed', 'the refused delivery to fail');
    h.thirdParty.failPath('/sync/create', 503, 1);
    await h.createLocal(org.id, 'x', ours);
    await eventually(async () => (await deliveryOf('x'))?.attempts === 1, 'the first attempt of x');
    expect(await deliveryOf('x')).toMatchObject({ status: 'pending' });

    held.letGo();
    const outcome = await reconciling;
    await h.drainOutput(30_000);
    await eventually(async () => (await h.item(org.id, 'x'))?.state === 'synced', 'x to settle');

    // Our change reached the third party (rule 4), and the failure still waits for a person (rule 5).
    expect(await deliveryOf('x')).toMatchObject({ status: 'succeeded' });
    expect(h.thirdParty.records.get('x')).toMatchObject({ name: 'ours' });
    expect(await deliveryOf('refused')).toMatchObject({ status: 'failed' });
    expect(await h.item(org.id, 'refused')).toMatchObject({ state: 'diverged' });
    // It stopped where the organization moved on: not reconciled, left to the newer revision's reconciliation.
    expect(outcome).toMatchObject({ revision: org.revision + 1, complete: false, items: 0 });
  });

  it('the periodic pass, whose list of organizations was read before an output webhook was replaced, does not cancel the change on its way to the new webhook', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);
    // The pass reads every organization once, then reconciles them one after another: by the time
    // it reaches this one, the owner has moved its output webhook (reconciled by its change event)...
    const listed = await h.organizations.listLive();
    const moved = await h.organizations.replace(h.ownerId, org.id, withEntryIds({ ...settingsOf(org), webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/v2`, method: 'POST' }] }));
    if (!moved) throw new Error('the organization was not replaced');
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);
    // ...and a change is on its way to the new webhook, after a brief outage.
    h.thirdParty.failPath('/sync/v2', 503, 1);
    await h.createLocal(org.id, 'x', ours);
    const deliveryOf = async () => (await h.deliveries.listForOrganization(org.id, { limit: 10 })).find((d) => d.externalId === 'x');
    await eventually(async () => (await deliveryOf())?.attempts === 1, 'the first attempt to the new webhook');

    const pass = new ReconcileAllUseCase({
      organizations: { listWithPolling: () => h.organizations.listWithPolling(), listLive: async () => listed },
      schedules: h.use(INTEGRATION.schedules),
      configuration: h.use(INTEGRATION.configurationMemory),
      expireRetained: h.use(INTEGRATION.expireRetained),
      redis: h.redis,
      prefix: h.config.QUEUE_PREFIX,
      intervalMs: h.config.RECONCILE_INTERVAL_MS,
      logger: h.use(INTEGRATION.logger),
    });
    await pass.execute();
    await h.drainOutput(30_000);
    await eventually(async () => (await h.item(org.id, 'x'))?.state === 'synced', 'the item to settle');

    expect(await deliveryOf()).toMatchObject({ status: 'succeeded', webhookId: moved.webhooks[0]?.id });
    expect(h.thirdParty.records.get('x')).toMatchObject({ name: 'ours' });
    // The revision remembered as reconciled is the newest: the next pass leaves the organization alone.
    expect(await h.use(INTEGRATION.configurationMemory).isCurrent(moved)).toBe(true);
  });

  it('a reconciliation that ends after a newer one does not remember its older revision over the newer one', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    const held = heldReconciliation(h);
    const memory = new ConfigurationMemory({ sync: { maintenance: held.maintenance }, redis: h.redis, prefix: h.config.QUEUE_PREFIX, logger: h.use(INTEGRATION.logger) });
    // A reconciliation reads revision 1 and is held (it has nothing to change: it completes)...
    const reconciling = memory.reconcile(org);
    await held.reached;
    // ...while the owner changes the organization and that change is reconciled and remembered.
    const changed = await h.organizations.replace(h.ownerId, org.id, { ...settingsOf(org), name: 'renamed' });
    if (!changed) throw new Error('the organization was not replaced');
    await h.use(INTEGRATION.configurationMemory).reconcile(changed);
    expect(await memory.isCurrent(changed)).toBe(true);

    held.letGo();
    await reconciling;
    expect(await memory.isCurrent(changed)).toBe(true);
  });

  it("a reconciliation that began before the memory was forgotten (a write's follow-up reconciliation did not go through) does not remember its revision", async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    const held = heldReconciliation(h);
    const memory = new ConfigurationMemory({ sync: { maintenance: held.maintenance }, redis: h.redis, prefix: h.config.QUEUE_PREFIX, logger: h.use(INTEGRATION.logger) });
    // A reconciliation begins (it has nothing to change: it completes) and is held...
    const reconciling = memory.reconcile(org);
    await held.reached;
    // ...while a write's follow-up reconciliation leaves an item as it was, and forgets the memory:
    // one that began before it may have listed the items before that write.
    await h.use(INTEGRATION.configurationMemory).forget(org.id);

    held.letGo();
    await reconciling;
    expect(await memory.isCurrent(org)).toBe(false);
    // One that begins after it is remembered.
    await h.use(INTEGRATION.configurationMemory).reconcile(org);
    expect(await memory.isCurrent(org)).toBe(true);
  });

  it('a switch to one-way that could not lock an item in time is not remembered as reconciled: the periodic pass settles the item (rule 8)', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    h.thirdParty.failPath('/sync/create', 400, 1);
    await h.createLocal(org.id, 'refused', ours);
    await eventually(async () => (await h.item(org.id, 'refused'))?.state === 'diverged', 'the item to diverge');
    const oneWay = await h.organizations.replace(h.ownerId, org.id, { ...settingsOf(org), synchronization: 'one-way' });
    if (!oneWay) throw new Error('the organization was not replaced');

    // Another writer holds the item's lock past the lock wait while the switch is reconciled.
    const gate = new Gate();
    gate.close();
    let holdingNow: () => void = () => undefined;
    const holding = new Promise<void>((resolve) => (holdingNow = resolve));
    const holder = h.use(INTEGRATION.locks).withLock(itemLockName(inventoryItemId(org.id, 'refused')), async () => {
      holdingNow();
      await gate.wait();
    });
    await holding;
    await h.use(INTEGRATION.configurationMemory).reconcile(oneWay);
    gate.open();
    await holder;
    expect(await h.item(org.id, 'refused')).toMatchObject({ state: 'diverged' });
    expect(await h.use(INTEGRATION.configurationMemory).isCurrent(oneWay)).toBe(false);

    await h.use(INTEGRATION.reconcileAll).execute();
    expect(await h.item(org.id, 'refused')).toMatchObject({ state: 'synced' });
    expect(await h.use(INTEGRATION.configurationMemory).isCurrent(oneWay)).toBe(true);
  }, 30_000);
});
