import request from 'supertest';
import type { Organization } from '@music/domain';
import { OrganizationRepository } from '@music/persistence';
import { provideFactory, resolve, secretBoxFrom } from '@music/platform';
import { HeldStep, holdingAfter } from '@music/testing';
import { INTEGRATION } from '../container';
import { OrganizationCache } from '../engine/organization-cache';
import { IntegrationHarness } from '../integration.test-harness';

const theirs = { id: 'x', name: 'theirs', artist: 'Remote Artist', album: 'Remote Album' };
const ours = { name: 'ours', artist: 'Local Artist', album: 'Local Album' };

/**
 * Writes that set an item's `seenBy` to every polling entry of an organization they read without
 * the item's send lease, so the reconciliation of an entry's removal does not wait for them (rules
 * 6, 8): an entry removed and reconciled between that read and the write must not stay in the item.
 */
describe('a polling entry removed while a write that lists every entry, read without the send lease, is on its way (rules 6, 8)', () => {
  let h: IntegrationHarness;
  /** The routes' organization reads (`findOwned`), the next one held after it answered when armed. */
  let owned: HeldStep;
  /** The delivery path's organization reads, likewise. */
  let cache: HeldStep;
  beforeEach(async () => {
    h = new IntegrationHarness();
    owned = new HeldStep();
    cache = new HeldStep();
    h.overrides = (c) => {
      provideFactory(c, INTEGRATION.organizations, (c) => holdingAfter(new OrganizationRepository(resolve(c, INTEGRATION.models), secretBoxFrom(resolve(c, INTEGRATION.config))), 'findOwned', owned));
      provideFactory(c, INTEGRATION.organizationCache, (c) => holdingAfter(new OrganizationCache(resolve(c, INTEGRATION.organizations)), 'findById', cache));
    };
    // No workers: the test runs the polls and the deliveries itself, each at its moment.
    await h.start({ RUN_WORKERS: 'false' });
  });
  afterEach(async () => h.stop());

  /** An organization with two polling entries and one output webhook. */
  const twoEntries = (): Promise<Organization> =>
    h.createOrganization({
      webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }],
      polling: [
        { endpoint: `${h.thirdParty.baseUrl}/music/first`, interval: 1, type: 'hour' },
        { endpoint: `${h.thirdParty.baseUrl}/music/second`, interval: 1, type: 'hour' },
      ],
    });

  /** An organization polled by two entries, both listing the item `x` the third party holds (both in its `seenBy`). */
  async function polledTwice(): Promise<Organization> {
    h.thirdParty.put(theirs);
    h.thirdParty.list('first', ['x']);
    h.thirdParty.list('second', ['x']);
    const org = await twoEntries();
    for (const entry of org.polling) {
      await h.use(INTEGRATION.pollRun).execute({ version: 1, organizationId: org.id, pollingId: entry.id, trigger: 'manual' }, async () => undefined);
    }
    expect((await h.item(org.id, 'x'))?.seenBy.sort()).toEqual(org.polling.map((p) => p.id).sort());
    return org;
  }

  it('accepting the remote version of a diverged item with nothing held (row 23), its organization read before the removal: the removed entry does not come back', async () => {
    const org = await polledTwice();
    const second = org.polling[1]?.id;
    // Our edit is refused for good (row 16): diverged, the third party still holding its own version, nothing held.
    h.thirdParty.failPath('/sync/create', 400);
    const item = await h.updateLocal(org.id, 'x', ours, false);
    await h.use(INTEGRATION.fanOutChange).execute({ version: 1, organizationId: org.id, itemId: item.id, eventId: (item.pendingEvent as { id: string }).id });
    expect(await h.item(org.id, 'x')).toMatchObject({ state: 'diverged', held: null, remoteKnown: true });

    // The owner accepts the remote version; the route's organization read answers (both entries), then is held...
    owned.holdNext();
    const accepting = request(h.app).post(`/organization/${org.id}/divergences/x/accept-remote`).set('authorization', `Bearer ${h.token()}`).send({}).then((r) => r);
    await owned.reached;
    // ...while the first entry is removed and reconciled.
    const removed = await h.removeFirstEntry(org);
    expect((await h.item(org.id, 'x'))?.seenBy).toEqual([second]);
    owned.letGo();
    expect((await accepting).status).toBe(200);

    // Only the entry that remains may list the item (rule 6), after the periodic pass too.
    await h.use(INTEGRATION.reconcileAll).execute();
    expect(await h.item(org.id, 'x')).toMatchObject({ state: 'synced', data: ours, seenBy: [second] });
    expect(await h.use(INTEGRATION.configurationMemory).isCurrent(removed)).toBe(true);
  });

  it('a deliver job run again after its delivery was answered (the answer learned again, row 15), its organization read before the removal: the removed entry does not come back', async () => {
    const org = await twoEntries();
    const second = org.polling[1]?.id;
    // The delivery answered, its job's run interrupted before the item learned it.
    const delivery = await h.answeredNotLearned(org.id, 'y', ours);
    expect(await h.item(org.id, 'y')).toMatchObject({ state: 'pending', awaiting: [delivery.webhookId], seenBy: [] });

    // The job runs again; its organization read answers (both entries), then is held...
    cache.holdNext();
    const running = h.use(INTEGRATION.deliverChange).execute({ deliveryId: delivery.id, attemptNumber: 3 });
    await cache.reached;
    // ...while the first entry is removed and reconciled (nothing lists the item yet).
    const removed = await h.removeFirstEntry(org);
    cache.letGo();
    expect((await running).unwrap()).toMatchObject({ kind: 'done', status: 'skipped' });

    // Settled and held by the third party, listed by the entry that remains only (rule 6), after the periodic pass too.
    await h.use(INTEGRATION.reconcileAll).execute();
    expect(await h.item(org.id, 'y')).toMatchObject({ state: 'synced', remoteKnown: true, seenBy: [second] });
    expect(await h.use(INTEGRATION.configurationMemory).isCurrent(removed)).toBe(true);
    // Nothing sent again: the answer was recorded.
    expect(h.thirdParty.deliveries).toHaveLength(1);
  });
});
