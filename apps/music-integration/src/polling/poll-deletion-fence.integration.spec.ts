import type { Organization } from '@music/domain';
import { inventoryItemId } from '@music/domain';
import { itemLockName, RedisLocks } from '@music/platform';
import { HeldStep, replacing } from '@music/testing';
import { IntegrationHarness, settingsOf } from '../integration.test-harness';
import type { PollRun } from './poll-run';

const song = (id: string) => ({ id, name: `Song ${id}`, artist: 'Artist', album: 'Album' });
const ALL = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
// The old endpoint's next listing lacks four of them (below the delete guard's half): two deletion batches of two.
const DROPPED = ['g', 'h', 'i', 'j'];

// Rule 6: a snapshot is the entry's as it is now. A run whose entry was given other settings while
// it ran deletes nothing on its old listing, and that holds during its deletion pass too, not only
// up to the check before it: the pass is held between its deletion batches (before the second
// batch takes its items' locks) while the owner points the entry at another endpoint
// (docs/reliability.md, "Bugs found" 12).
describe('a poll whose entry changes during its deletion pass (rule 6)', () => {
  let h: IntegrationHarness;
  let poll: PollRun;
  // Held before the deletion pass's second batch takes its items' locks.
  const secondBatch = new HeldStep();
  let dropped = new Set<string>();
  let batches = 0;
  beforeEach(async () => {
    h = await new IntegrationHarness().start();
    await h.queues.polling.pause();
    batches = 0;
    const locks = replacing(new RedisLocks(h.redis, { prefix: h.prefix }), 'withLocks', async (real, ...args) => {
      const names = args[0] as string[];
      // A deletion batch locks only items the old listing lacks (a page of the walk locks listed ones).
      if (names.length > 0 && names.every((n) => dropped.has(n)) && ++batches === 2) await secondBatch.pass();
      return real(...args);
    });
    poll = h.pollRunOver({ locks, deletionBatch: 2 });
  });
  afterEach(async () => {
    secondBatch.letGo();
    await h.stop();
  });

  const run = (org: Organization) => poll.execute({ version: 1, organizationId: org.id, pollingId: org.polling[0]?.id as string, trigger: 'manual' }, async () => undefined);
  const deleted = async (orgId: string) => (await h.allItems(orgId)).filter((d) => d.deleted).map((d) => d.externalId);

  /** An organization whose entry listed ALL once; its old endpoint now lacks DROPPED, the other lists ALL. */
  const organization = async () => {
    h.thirdParty.put(...ALL.map(song));
    h.thirdParty.list('old', ALL);
    h.thirdParty.list('new', ALL);
    const org = await h.createOrganization({ polling: [{ endpoint: `${h.thirdParty.baseUrl}/music/old`, interval: 1, type: 'hour' }] });
    expect(await run(org)).toMatchObject({ kind: 'done', status: 'succeeded', counts: { created: ALL.length } });
    h.thirdParty.list('old', ALL.filter((id) => !DROPPED.includes(id)));
    dropped = new Set(DROPPED.map((id) => itemLockName(inventoryItemId(org.id, id))));
    return org;
  };

  /** A run of the entry, held before its deletion pass's second batch; the first batch's two deletions made. */
  const heldAtSecondBatch = async (org: Organization) => {
    secondBatch.holdNext();
    const running = run(org);
    await secondBatch.reached;
    const before = await deleted(org.id);
    expect(before).toHaveLength(2);
    return { running, before };
  };

  it('an entry pointed at another endpoint between two deletion batches: nothing more is deleted after the change', async () => {
    const org = await organization();
    const entry = org.polling[0];
    if (!entry) throw new Error('no polling entry');

    // The first batch went before the change: its two items are gone (the old listing lacked them then).
    const { running, before } = await heldAtSecondBatch(org);
    // The owner points the same entry (its id kept) at another endpoint, which lists every item.
    const moved = await h.organizations.replace(h.ownerId, org.id, { ...settingsOf(org), polling: [{ ...entry, endpoint: `${h.thirdParty.baseUrl}/music/new` }] });
    expect(moved?.polling[0]?.id).toBe(entry.id);
    secondBatch.letGo();

    const outcome = await running;
    expect(outcome).toMatchObject({ kind: 'done', status: 'succeeded', counts: { deleted: 2 } });
    if (outcome.kind !== 'done') throw new Error('not done');
    expect((await h.runs.findForOrganization(org.id, outcome.runId))?.message).toContain('deletions skipped');
    // The items the old listing lacked but the new one lists, not yet deleted at the change, stay.
    expect(await deleted(org.id)).toEqual(before);
    expect((await h.items(org.id)).map((i) => i.externalId)).toEqual(ALL.filter((id) => !before.includes(id)));
  });

  it('an entry removed between two deletion batches: nothing more is deleted, and the entry leaves the items', async () => {
    const org = await organization();

    const { running, before } = await heldAtSecondBatch(org);
    await h.organizations.replace(h.ownerId, org.id, { ...settingsOf(org), polling: [] });
    secondBatch.letGo();

    expect(await running).toMatchObject({ kind: 'done', status: 'succeeded', counts: { deleted: 2 } });
    expect(await deleted(org.id)).toEqual(before);
    // The recheck found the entry gone and applied the configuration (bug 9): no item lists it any more.
    expect((await h.items(org.id)).map((i) => i.seenBy)).toEqual(ALL.filter((id) => !before.includes(id)).map(() => []));
  });

  it('a change that leaves the listing as it was (the organization renamed, the entry polled less often) does not stop the pass', async () => {
    const org = await organization();
    const entry = org.polling[0];
    if (!entry) throw new Error('no polling entry');

    const { running } = await heldAtSecondBatch(org);
    await h.organizations.replace(h.ownerId, org.id, { ...settingsOf(org), name: 'Renamed', polling: [{ ...entry, interval: 2 }] });
    secondBatch.letGo();

    expect(await running).toMatchObject({ kind: 'done', status: 'succeeded', counts: { deleted: 4 } });
    expect((await deleted(org.id)).sort()).toEqual(DROPPED);
  });
});
