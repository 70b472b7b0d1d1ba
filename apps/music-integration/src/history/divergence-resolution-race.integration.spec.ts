import request from 'supertest';
import { provideFactory, resolve } from '@music/platform';
import { createSyncState } from '@music/sync-state';
import { eventually, HeldStep } from '@music/testing';
import { INTEGRATION } from '../container';
import { IntegrationHarness } from '../integration.test-harness';

const ours = { name: 'ours', artist: 'Local Artist', album: 'Local Album' };

describe('divergence resolution: a replay decided on a diverged item does not undo an accepted remote version (rule 5, rule 4)', () => {
  let h: IntegrationHarness;
  // The replay's write (Outbound.replay), held after the replay decided on the diverged item.
  let replays: HeldStep;
  // An accept-remote, held after its item write, before it resolves the failures.
  let accepts: HeldStep;

  beforeEach(async () => {
    h = new IntegrationHarness();
    replays = new HeldStep();
    accepts = new HeldStep();
    h.overrides = (c) => {
      provideFactory(c, INTEGRATION.syncState, (c) => {
        const sync = createSyncState({ models: resolve(c, INTEGRATION.models), locks: resolve(c, INTEGRATION.locks) });
        const applyOne = sync.items.applyOne.bind(sync.items);
        sync.items.applyOne = async (...args: Parameters<typeof applyOne>) => {
          const applied = await applyOne(...args);
          // An accepted remote version (rows 21-23) is held after its item write, before its failures are resolved.
          if (applied.transition.outcome === 'resolved') await accepts.pass();
          return applied;
        };
        const replay = sync.outbound.replay.bind(sync.outbound);
        sync.outbound.replay = async (item, deliveries) => {
          await replays.pass();
          return replay(item, deliveries);
        };
        return sync;
      });
    };
    await h.start();
  });
  afterEach(async () => h.stop());

  const post = (path: string) => request(h.app).post(path).set('authorization', `Bearer ${h.token()}`).send({});

  /**
   * An organization whose item `key` is diverged (our create refused for good: row 16) with the
   * third party's own version held (a poll: row 18). The third party refuses again while `refusing`.
   */
  async function divergedWithTheirsHeld(key: string, refusing = false) {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    h.thirdParty.failPath('/sync/create', 400);
    await h.createLocal(org.id, key, ours);
    await h.drainOutput();
    await eventually(async () => (await h.item(org.id, key))?.state === 'diverged', 'the item to diverge');
    if (!refusing) h.thirdParty.clearPathFailure('/sync/create');
    h.thirdParty.put({ id: key, name: 'theirs', artist: 'Remote Artist', album: 'Remote Album' });
    await h.pollNow(org.id);
    expect((await h.item(org.id, key))?.held).toMatchObject({ op: 'upsert' });
    return org;
  }

  it('accept-remote lands while a replay of the same divergence is on its way: the third party keeps the accepted version', async () => {
    const org = await divergedWithTheirsHeld('x');

    // The owner presses "replay"; its decision is made on the diverged item, then held...
    replays.holdNext();
    const replaying = post(`/organization/${org.id}/divergences/x/replay`).then((r) => r);
    await replays.reached;
    // ...while (another tab, another owner's session) the remote version is accepted (row 21).
    const accepted = await post(`/organization/${org.id}/divergences/x/accept-remote`);
    expect(accepted.status).toBe(200);
    expect((await h.item(org.id, 'x'))?.data).toMatchObject({ name: 'theirs' });
    replays.letGo();
    const replayed = await replaying;
    await h.drainOutput();
    await eventually(async () => (await h.item(org.id, 'x'))?.state === 'synced', 'the item to settle');

    // The divergence the replay was about no longer exists: nothing of ours is sent over the
    // version the owner accepted, and both sides hold the same state (rule 4: the third party
    // never ends with an older state than ours; rule 5: accepting the remote version ends it).
    const item = await h.item(org.id, 'x');
    expect(item?.data).toMatchObject({ name: 'theirs' });
    expect(h.thirdParty.records.get('x')).toMatchObject({ name: 'theirs' });
    expect(replayed.status).toBe(404);
  });
  it("a delivery replayed after the third party's version was accepted is refused: it would send our older state over it", async () => {
    const org = await divergedWithTheirsHeld('y');
    expect((await post(`/organization/${org.id}/divergences/y/accept-remote`)).status).toBe(200);
    const [delivery] = await h.store.models.deliveries.find({ organizationId: org.id, externalId: 'y' }).lean();
    expect(delivery?.status).toBe('resolved');

    const replayed = await post(`/organization/${org.id}/deliveries/${delivery?._id}/replay`);
    expect(replayed.status).toBe(409);
    await h.drainOutput();
    expect(h.thirdParty.records.get('y')).toMatchObject({ name: 'theirs' });
    expect((await h.item(org.id, 'y'))?.data).toMatchObject({ name: 'theirs' });
  });
  it('a newer change that fails while an accept-remote is finishing stays a divergence of its own (rule 5)', async () => {
    const org = await divergedWithTheirsHeld('z', true);

    // The owner accepts the remote version; its item write lands, then it is held before it resolves the failures...
    accepts.holdNext();
    const accepting = post(`/organization/${org.id}/divergences/z/accept-remote`).then((r) => r);
    await accepts.reached;
    // ...while a newer local change is made and refused for good: a new divergence, of version 2.
    await h.updateLocal(org.id, 'z', { ...ours, name: 'ours again' });
    await h.drainOutput();
    await eventually(async () => (await h.item(org.id, 'z'))?.state === 'diverged', 'the newer change to diverge');
    accepts.letGo();
    expect((await accepting).status).toBe(200);

    // The accept ended the divergence it was about (version 1), not the newer one.
    const deliveries = await h.store.models.deliveries.find({ organizationId: org.id, externalId: 'z' }).lean();
    expect(deliveries.map((d) => [d.version, d.status]).sort()).toEqual([
      [1, 'resolved'],
      [2, 'failed'],
    ]);
    h.thirdParty.clearPathFailure('/sync/create');
    expect((await post(`/organization/${org.id}/divergences/z/replay`)).status).toBe(202);
    await h.drainOutput();
    expect(h.thirdParty.records.get('z')).toMatchObject({ name: 'ours again' });
  });
});
