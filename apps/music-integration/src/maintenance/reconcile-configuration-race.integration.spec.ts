import type { Organization } from '@music/domain';
import { withEntryIds } from '@music/persistence';
import { provideFactory, resolve } from '@music/platform';
import { eventually, Gate } from '@music/testing';
import { INTEGRATION } from '../container';
import { IntegrationHarness } from '../integration.test-harness';
import { ConfigurationMemory } from './configuration-memory';

/**
 * Holds the next reconciliation of one organization's configuration until released: the
 * reconciliation (an org-changed event's, or the periodic one) has read the organization and applies
 * that read to its pending work; holding it stretches the moment between that read and the
 * cancellations it decides, as a busy worker or a long periodic pass over many organizations does.
 */
class HeldConfiguration extends ConfigurationMemory {
  private armed: string | null = null;
  private readonly gate = new Gate();
  reached: Promise<void> = Promise.resolve();
  private reachedNow: () => void = () => undefined;
  /** Settles when the held reconciliation ended. */
  done: Promise<void> = Promise.resolve();
  private doneNow: () => void = () => undefined;

  holdNext(organizationId: string): void {
    this.armed = organizationId;
    this.gate.close();
    this.reached = new Promise((resolve) => (this.reachedNow = resolve));
    this.done = new Promise((resolve) => (this.doneNow = resolve));
  }

  letGo(): void {
    this.gate.open();
  }

  override async reconcile(org: Organization): Promise<void> {
    if (this.armed !== org.id) return super.reconcile(org);
    this.armed = null;
    this.reachedNow();
    await this.gate.wait();
    try {
      await super.reconcile(org);
    } finally {
      this.doneNow();
    }
  }
}

const ours = { name: 'ours', artist: 'Local Artist', album: 'Local Album' };

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
    configuration.holdNext(org.id);
    const reconciling = h.use(INTEGRATION.reconcileOrganization).execute(org.id);
    await configuration.reached;

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

    configuration.letGo();
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
});
