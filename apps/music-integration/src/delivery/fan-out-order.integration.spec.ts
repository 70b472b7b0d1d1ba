import { provideFactory, RedisLocks, resolve } from '@music/platform';
import { sendLeaseName } from '@music/sync-state';
import { eventually, HeldStep } from '@music/testing';
import { INTEGRATION } from '../container';
import { OrganizationCache } from '../engine/organization-cache';
import { IntegrationHarness } from '../integration.test-harness';

const fields = (name: string) => ({ name, artist: 'Local Artist', album: 'Local Album' });

/**
 * Organization reads, the next one of `heldFor` held: the fan-out reads the organization beside its
 * item, so holding it stretches the moment between a fan-out's look at the item and its send.
 */
class HeldOrganizationReads extends OrganizationCache {
  readonly step = new HeldStep();
  heldFor: string | null = null;
  /** The next read fails (the store did not answer). */
  failNext = false;

  override async findById(id: string) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('the store did not answer');
    }
    const org = await super.findById(id);
    if (this.heldFor === id) await this.step.pass();
    return org;
  }
}

describe('fan-out order: an older state never lands after a newer one (rule 4)', () => {
  let h: IntegrationHarness;
  let reads: HeldOrganizationReads;

  beforeEach(async () => {
    h = new IntegrationHarness();
    h.overrides = (c) => {
      provideFactory(c, INTEGRATION.organizationCache, (c) => {
        reads = new HeldOrganizationReads(resolve(c, INTEGRATION.organizations));
        return reads;
      });
    };
    await h.start();
  });
  afterEach(async () => h.stop());

  it('a fan-out slowed after reading its item does not send that item over the newer change sent meanwhile', async () => {
    const org = await h.createOrganization();
    // The create's fan-out is held in the middle of its reads...
    const created = await h.createLocal(org.id, 'x', fields('first'), false);
    reads.heldFor = org.id;
    reads.step.holdNext();
    await h.enqueueFanout(created);
    await reads.step.reached;
    // ...while the item is edited and the edit's own fan-out runs to its end.
    await h.updateLocal(org.id, 'x', fields('second'));
    // Fanned out: sent already, or queued as a deliver job behind the held send.
    await eventually(async () => (await h.item(org.id, 'x'))?.pendingEvent === null, "the edit's fan-out");
    reads.step.letGo();
    await h.drainOutput();
    await eventually(async () => (await h.item(org.id, 'x'))?.state === 'synced', 'the item to settle');

    // The third party ends with our state, whatever was sent on the way.
    expect(h.thirdParty.records.get('x')).toMatchObject({ name: 'second' });
    const sent = h.thirdParty.deliveries.filter((d) => d.status < 300).map((d) => (d.body as { name?: string }).name);
    expect(sent[sent.length - 1]).toBe('second');
  });
  it('an edit whose fan-out is slowed does not bring back an item deleted and sent meanwhile', async () => {
    const org = await h.createOrganization();
    await h.createLocal(org.id, 'y', fields('kept'));
    await eventually(async () => (await h.item(org.id, 'y'))?.state === 'synced', 'the create to settle');
    const edited = await h.updateLocal(org.id, 'y', fields('edited'), false);
    reads.heldFor = org.id;
    reads.step.holdNext();
    await h.enqueueFanout(edited);
    await reads.step.reached;
    await h.deleteLocal(org.id, 'y');
    await eventually(async () => (await h.item(org.id, 'y'))?.pendingEvent === null, "the delete's fan-out");
    reads.step.letGo();
    await h.drainOutput();
    await eventually(async () => (await h.item(org.id, 'y'))?.state === 'synced', 'the tombstone to settle');

    expect(h.thirdParty.records.has('y')).toBe(false);
    const sent = h.thirdParty.deliveries.filter((d) => d.status < 300).map((d) => d.method);
    expect(sent[sent.length - 1]).toBe('DELETE');
  });
  it('a fan-out whose organization read fails gives the send lease it took back (the retry, or a deliver job, can send)', async () => {
    const org = await h.createOrganization();
    const item = await h.createLocal(org.id, 'z', fields('once'), false);
    reads.failNext = true;
    const job = { version: 1 as const, organizationId: org.id, itemId: item.id, eventId: item.pendingEvent?.id as string };
    await expect(h.use(INTEGRATION.fanOutChange).execute(job)).rejects.toThrow('the store did not answer');
    const locks = new RedisLocks(h.redis, { prefix: h.prefix });
    expect(await locks.acquire(sendLeaseName(item.id), 'probe', 1000)).toBe(true);
  });
});
