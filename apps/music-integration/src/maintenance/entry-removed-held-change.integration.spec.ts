import request from 'supertest';
import type { Organization } from '@music/domain';
import { INTEGRATION } from '../container';
import { IntegrationHarness } from '../integration.test-harness';

const song = (id: string, name = `Song ${id}`) => ({ id, name, artist: 'Artist', album: 'Album' });
const ours = { name: 'ours', artist: 'Local Artist', album: 'Local Album' };

/**
 * A change held on an item (rules 3, 5) keeps the polling entries it came from, and applying it
 * later lists the item under them (rows 14, 17, 21, 26, 29, 31). An entry removed while the change
 * is held must not come back with it: the remaining entries' deletion passes would leave the item
 * alone (rule 6) until the next reconciliation, up to a day later (rule 8).
 */
describe('a polling entry removed while a change it read is held on an item (rules 6, 8)', () => {
  let h: IntegrationHarness;
  beforeEach(async () => {
    h = new IntegrationHarness();
    // No workers: the test runs the polls, fan-outs and reconciliations itself, each at its moment.
    await h.start({ RUN_WORKERS: 'false' });
  });
  afterEach(async () => h.stop());

  const poll = (org: Organization, index: number) => {
    const entry = org.polling[index];
    if (!entry) throw new Error(`no polling entry ${index}`);
    return h.use(INTEGRATION.pollRun).execute({ version: 1, organizationId: org.id, pollingId: entry.id, trigger: 'manual' }, async () => undefined);
  };

  /**
   * An organization with two polling entries (and these output webhooks), both listing `x`; the
   * second lists more, so its later pass is not held by the delete guard.
   */
  async function polledTwice(webhooks: Array<Record<string, unknown>>): Promise<Organization> {
    h.thirdParty.put(song('x'), song('b'), song('c'));
    h.thirdParty.list('first', ['x']);
    h.thirdParty.list('second', ['x', 'b', 'c']);
    const org = await h.createOrganization({
      webhooks,
      polling: [
        { endpoint: `${h.thirdParty.baseUrl}/music/first`, interval: 1, type: 'hour' },
        { endpoint: `${h.thirdParty.baseUrl}/music/second`, interval: 1, type: 'hour' },
      ],
    });
    await poll(org, 0);
    await poll(org, 1);
    expect((await h.item(org.id, 'x'))?.seenBy.sort()).toEqual(org.polling.map((p) => p.id).sort());
    return org;
  }

  /** The third party changes `x`, and the first entry's poll reads it while our change is unsettled: held (rows 12, 18). */
  async function heldFromFirst(org: Organization): Promise<void> {
    h.thirdParty.put(song('x', 'theirs, later'));
    await poll(org, 0);
    expect((await h.item(org.id, 'x'))?.held).toMatchObject({ op: 'upsert', data: { name: 'theirs, later' }, entries: [org.polling[0]?.id] });
  }

  /** The owner removes the first entry, and the change's reconciliation runs as the product runs it. */
  async function removeFirstEntry(org: Organization): Promise<Organization> {
    const removed = await h.removeFirstEntry(org);
    expect((await h.item(org.id, 'x'))?.seenBy).toEqual([org.polling[1]?.id]);
    return removed;
  }

  /** The item, listed by the remaining entry alone, is deleted by that entry's pass once the third party deletes it (rule 6). */
  async function deletedByTheRemainingEntry(removed: Organization): Promise<void> {
    expect((await h.item(removed.id, 'x'))?.seenBy).toEqual([removed.polling[0]?.id]);
    h.thirdParty.list('second', ['b', 'c']);
    h.thirdParty.records.delete('x');
    expect(await poll(removed, 0)).toMatchObject({ kind: 'done', counts: { deleted: 1 } });
    expect((await h.items(removed.id)).map((i) => i.externalId)).toEqual(['b', 'c']);
  }

  it('a held change applied when the local change settles with no output webhook to send it to (row 14)', async () => {
    const org = await polledTwice([]);
    const item = await h.updateLocal(org.id, 'x', ours, false);
    await heldFromFirst(org);
    const removed = await removeFirstEntry(org);

    // Our change can reach no output webhook: the held change applies (row 14).
    await h.use(INTEGRATION.fanOutChange).execute({ version: 1, organizationId: org.id, itemId: item.id, eventId: (item.pendingEvent as { id: string }).id });
    expect(await h.item(org.id, 'x')).toMatchObject({ state: 'synced', origin: 'remote', data: { name: 'theirs, later' }, held: null });
    await deletedByTheRemainingEntry(removed);
  });

  it('a held change that alone names the removed entry (the item created locally, listed by no entry yet)', async () => {
    h.thirdParty.put(song('x'), song('b'), song('c'));
    h.thirdParty.list('first', ['x']);
    h.thirdParty.list('second', ['b', 'c']);
    const org = await h.createOrganization({
      webhooks: [],
      polling: [
        { endpoint: `${h.thirdParty.baseUrl}/music/first`, interval: 1, type: 'hour' },
        { endpoint: `${h.thirdParty.baseUrl}/music/second`, interval: 1, type: 'hour' },
      ],
    });
    await poll(org, 1);
    // Our create of x is pending (row 1, listed by no entry) when the first entry reads the third party's x: held (row 12).
    const item = await h.createLocal(org.id, 'x', ours, false);
    await poll(org, 0);
    expect(await h.item(org.id, 'x')).toMatchObject({ state: 'pending', seenBy: [], held: { op: 'upsert', entries: [org.polling[0]?.id] } });
    const removed = await h.removeFirstEntry(org);

    // Our change can reach no output webhook: the held change applies (row 14), listed by no removed entry.
    await h.use(INTEGRATION.fanOutChange).execute({ version: 1, organizationId: org.id, itemId: item.id, eventId: (item.pendingEvent as { id: string }).id });
    expect(await h.item(org.id, 'x')).toMatchObject({ state: 'synced', origin: 'remote', data: { name: 'Song x' }, seenBy: [] });
    // The remaining entry lists it (row 8), then stops.
    h.thirdParty.list('second', ['x', 'b', 'c']);
    await poll(removed, 0);
    await deletedByTheRemainingEntry(removed);
  });

  it('a held change applied by accepting the remote version of a diverged item (row 21)', async () => {
    const org = await polledTwice([{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }]);
    // Our edit is refused for good (row 16): diverged.
    h.thirdParty.failPath('/sync/create', 400);
    const item = await h.updateLocal(org.id, 'x', ours, false);
    await h.use(INTEGRATION.fanOutChange).execute({ version: 1, organizationId: org.id, itemId: item.id, eventId: (item.pendingEvent as { id: string }).id });
    expect(await h.item(org.id, 'x')).toMatchObject({ state: 'diverged', held: null });
    await heldFromFirst(org);
    const removed = await removeFirstEntry(org);

    const accepted = await request(h.app).post(`/organization/${org.id}/divergences/x/accept-remote`).set('authorization', `Bearer ${h.token()}`).send({});
    expect(accepted.status).toBe(200);
    expect(await h.item(org.id, 'x')).toMatchObject({ state: 'synced', origin: 'remote', data: { name: 'theirs, later' }, held: null });
    await deletedByTheRemainingEntry(removed);
  });
});
