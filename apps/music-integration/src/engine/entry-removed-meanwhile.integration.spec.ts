import request from 'supertest';
import type { Organization } from '@music/domain';
import { OrganizationRepository } from '@music/persistence';
import { provideFactory, resolve, secretBoxFrom } from '@music/platform';
import { eventually, HeldStep, holdingAfter } from '@music/testing';
import { INTEGRATION } from '../container';
import { IntegrationHarness, settingsOf } from '../integration.test-harness';

const song = (id: string) => ({ id, name: `Song ${id}`, artist: 'Artist', album: 'Album' });

describe('a polling entry removed while a write that lists it is on its way (rules 6, 8)', () => {
  let h: IntegrationHarness;
  /** Organization reads of the integration app, the next one held after it answered when armed. */
  let reads: HeldStep;
  beforeEach(async () => {
    h = new IntegrationHarness();
    reads = new HeldStep();
    h.overrides = (c) => {
      provideFactory(c, INTEGRATION.organizations, (c) => holdingAfter(new OrganizationRepository(resolve(c, INTEGRATION.models), secretBoxFrom(resolve(c, INTEGRATION.config))), 'findById', reads));
    };
    await h.start();
    // The runs are the tests' own: a scheduled run of an entry (its scheduler is set again when the
    // organization changes) would take the entry's lease beside them.
    await h.queues.polling.pause();
  });
  afterEach(async () => h.stop());

  const poll = (org: Organization, index: number) => {
    const entry = org.polling[index];
    if (!entry) throw new Error(`no polling entry ${index}`);
    return h.use(INTEGRATION.pollRun).execute({ version: 1, organizationId: org.id, pollingId: entry.id, trigger: 'manual' }, async () => undefined);
  };

  it("a run of the removed entry does not leave it in the items it wrote, so the remaining entry's deletion pass still deletes them", async () => {
    // The second entry lists more than the item, so its later pass is not held by the delete guard.
    h.thirdParty.put(song('a'), song('b'), song('c'));
    h.thirdParty.list('first', ['a']);
    h.thirdParty.list('second', ['a', 'b', 'c']);
    const org = await h.createOrganization({
      polling: [
        { endpoint: `${h.thirdParty.baseUrl}/music/first`, interval: 1, type: 'hour' },
        { endpoint: `${h.thirdParty.baseUrl}/music/second`, interval: 1, type: 'hour' },
      ],
    });
    const [first, second] = org.polling;
    await poll(org, 0);
    await poll(org, 1);
    expect((await h.item(org.id, 'a'))?.seenBy.sort()).toEqual([first?.id, second?.id].sort());

    // The first entry's next poll has its answer on the way...
    h.thirdParty.holdNextList();
    const running = poll(org, 0);
    await eventually(async () => h.thirdParty.heldLists > 0, 'the poll to fetch');
    // ...while the owner removes that entry, and its reconciliation runs.
    const removed = await h.removeFirstEntry(org);
    expect((await h.item(org.id, 'a'))?.seenBy).toEqual([second?.id]);
    h.thirdParty.releaseList();
    expect(await running).toMatchObject({ kind: 'done', status: 'succeeded' });

    // Only the remaining entry lists the item: the third party deletes it, and that entry's pass deletes it.
    expect((await h.item(org.id, 'a'))?.seenBy).toEqual([second?.id]);
    h.thirdParty.list('second', ['b', 'c']);
    h.thirdParty.records.delete('a');
    expect(await poll(removed, 0)).toMatchObject({ kind: 'done', counts: { deleted: 1 } });
    expect((await h.items(org.id)).map((i) => i.externalId)).toEqual(['b', 'c']);
  });

  it('an input webhook call applied with the entries read before one was removed does not leave it in the item', async () => {
    const org = await h.createOrganization({
      polling: [
        { endpoint: `${h.thirdParty.baseUrl}/music/first`, interval: 1, type: 'hour' },
        { endpoint: `${h.thirdParty.baseUrl}/music/second`, interval: 1, type: 'hour' },
      ],
    });
    const second = org.polling[1];
    // The call is accepted; when it is applied, its organization read answers (both entries), then is held...
    await h.queues.inbound.pause();
    expect((await request(h.app).post(`/sync?orgId=${org.id}`).send(song('w'))).status).toBe(202);
    reads.holdNext();
    await h.queues.inbound.resume();
    await reads.reached;
    // ...while the owner removes the first entry, and its reconciliation runs (nothing lists it yet).
    await h.removeFirstEntry(org);
    reads.letGo();

    await eventually(async () => (await h.store.models.inboundMessages.countDocuments({ organizationId: org.id, appliedAt: null })) === 0, 'the call to be applied');
    expect((await h.item(org.id, 'w'))?.seenBy).toEqual([second?.id]);
  });
  it('a run of the removed entry that stops early (a page it could not fetch) does not leave the entry in what it wrote either', async () => {
    h.thirdParty.put(song('a'), song('x'), song('b'), song('c'));
    h.thirdParty.list('first', ['a', 'x']);
    h.thirdParty.list('second', ['a', 'b', 'c']);
    const org = await h.createOrganization({
      polling: [
        { endpoint: `${h.thirdParty.baseUrl}/music/first`, interval: 1, type: 'hour', pagination: { type: 'page', limit: 1 } },
        { endpoint: `${h.thirdParty.baseUrl}/music/second`, interval: 1, type: 'hour' },
      ],
    });
    const second = org.polling[1];
    await poll(org, 1);

    // The first entry's first page is on its way...
    h.thirdParty.holdNextList();
    const running = poll(org, 0);
    await eventually(async () => h.thirdParty.heldLists > 0, 'the poll to fetch');
    // ...while the entry is removed and reconciled; its second page is then refused for good.
    await h.removeFirstEntry(org);
    h.thirdParty.failures.music = { count: 1, status: 400 };
    h.thirdParty.releaseList();
    expect(await running).toMatchObject({ kind: 'done', status: 'partial', counts: { fetched: 1 } });

    expect((await h.item(org.id, 'a'))?.seenBy).toEqual([second?.id]);
  });

  it("a run whose entry was given another endpoint while it ran deletes nothing on the old endpoint's listing", async () => {
    h.thirdParty.put(song('a'), song('b'), song('c'));
    h.thirdParty.list('first', ['a', 'b', 'c']);
    h.thirdParty.list('second', ['a', 'b', 'c']);
    const org = await h.createOrganization({ polling: [{ endpoint: `${h.thirdParty.baseUrl}/music/first`, interval: 1, type: 'hour' }] });
    const entry = org.polling[0];
    if (!entry) throw new Error('no polling entry');
    await poll(org, 0);

    // The old endpoint no longer lists c; the entry's next run has that listing on its way...
    h.thirdParty.list('first', ['a', 'b']);
    h.thirdParty.holdNextList();
    const running = poll(org, 0);
    await eventually(async () => h.thirdParty.heldLists > 0, 'the poll to fetch');
    // ...while the owner points the same entry (its id kept) at another endpoint, which lists c.
    const moved = await h.organizations.replace(h.ownerId, org.id, { ...settingsOf(org), polling: [{ ...entry, endpoint: `${h.thirdParty.baseUrl}/music/second` }] });
    if (!moved) throw new Error('the organization was not replaced');
    expect(moved.polling[0]?.id).toBe(entry.id);
    h.thirdParty.releaseList();
    expect(await running).toMatchObject({ kind: 'done', status: 'succeeded', counts: { deleted: 0 } });
    expect((await h.items(org.id)).map((i) => i.externalId).sort()).toEqual(['a', 'b', 'c']);

    // The entry's next run reads its new endpoint, and deletes nothing either.
    expect(await poll(moved, 0)).toMatchObject({ kind: 'done', status: 'succeeded', counts: { deleted: 0 } });
    expect((await h.items(org.id)).map((i) => i.externalId).sort()).toEqual(['a', 'b', 'c']);
  });
});
