import type { InventoryItemDoc } from '@music/persistence';
import { IntegrationHarness } from '../integration.test-harness';
import type { PollRun } from './poll-run';

const song = (id: number) => ({ id: String(id), name: `Song ${id}`, artist: `Artist ${id}`, album: `Album ${id}` });

// A poll's deletion pass (docs/sync-model.md, rule 6 and "Polling" step 5) with its candidates read
// 3 at a time: a complete snapshot missing items deletes exactly those, wherever they fall in the
// batches; one dropping more than DELETE_GUARD_RATIO of them, counted over every batch, deletes
// nothing and ends the run `attention`.
describe('poll runs: the deletion pass across candidate batches (real store)', () => {
  const BATCH = 3;
  let h: IntegrationHarness;
  let poll: PollRun;
  beforeEach(async () => {
    h = await new IntegrationHarness().start();
    poll = h.pollRunOver({ candidateBatch: BATCH });
  });
  afterEach(async () => h.stop());

  // One request per walk (no pagination): the two-miss rule does not apply, an absent item goes at the first miss.
  const organization = () => h.createOrganization({ synchronization: 'one-way', webhooks: [] });
  const run = async (org: { id: string; polling: Array<{ id: string }> }) => {
    const outcome = await poll.execute({ version: 1, organizationId: org.id, pollingId: org.polling[0]?.id as string, trigger: 'manual' }, async () => undefined);
    if (outcome.kind !== 'done') throw new Error(`poll ended ${outcome.kind}`);
    return { ...outcome, run: await h.runs.findForOrganization(org.id, outcome.runId) };
  };
  /** The entry's candidates in the order the store returns them (the pass's query, unsorted): batch i is positions 3i to 3i+2. */
  const candidateOrder = async (orgId: string, entry: string): Promise<string[]> =>
    (await h.store.models.inventoryItems.find({ organizationId: orgId, seenBy: entry, deleted: false, state: 'synced' }, { externalId: 1 }).lean<Array<{ externalId: string }>>()).map((d) => d.externalId);
  const byId = async (orgId: string): Promise<Map<string, InventoryItemDoc>> => new Map((await h.allItems(orgId)).map((d) => [d.externalId, d]));

  it('a snapshot missing items deletes exactly those, in every batch', async () => {
    const org = await organization();
    const songs = Array.from({ length: 20 }, (_, i) => song(i + 1));
    h.thirdParty.listedRecords = songs;
    expect(await run(org)).toMatchObject({ status: 'succeeded', counts: { created: 20 } });
    // 20 candidates: [0 1 2] ... [15 16 17] [18 19]. Missing: 0 (first of a batch), 5 (last of a
    // batch), 6 7 8 (a whole batch), 19 (last of the last, partial batch); [9-11] [12-14] all listed.
    const order = await candidateOrder(org.id, org.polling[0]?.id as string);
    expect(order).toHaveLength(20);
    const missing = [0, 5, 6, 7, 8, 19].map((i) => order[i] as string);
    const before = await byId(org.id);
    h.thirdParty.listedRecords = songs.filter((s) => !missing.includes(s.id));

    const second = await run(org);
    expect(second).toMatchObject({ status: 'succeeded', counts: { fetched: 14, unchanged: 14, deleted: 6 } });
    expect(second.run?.message ?? null).toBeNull();
    const after = await byId(org.id);
    expect([...after.values()].filter((d) => d.deleted).map((d) => d.externalId).sort()).toEqual([...missing].sort());
    // The listed ones: not one write.
    for (const id of order.filter((i) => !missing.includes(i))) expect({ id, doc: after.get(id) }).toEqual({ id, doc: before.get(id) });
  });

  it('a snapshot dropping more than the guard ratio, counted over every batch, deletes nothing and asks for attention', async () => {
    const org = await organization();
    const songs = Array.from({ length: 20 }, (_, i) => song(i + 1));
    h.thirdParty.listedRecords = songs;
    await run(org);
    // [0 1 2] all listed, [3 4 5] one missing: the first batches alone are far below 0.5; then
    // [6 7 8] [9 10 11] all missing, [12-14] [15-17] listed but 14, and [18 19] missing: 11 of 20.
    const order = await candidateOrder(org.id, org.polling[0]?.id as string);
    const missing = [4, 6, 7, 8, 9, 10, 11, 14, 17, 18, 19].map((i) => order[i] as string);
    const before = await byId(org.id);
    h.thirdParty.listedRecords = songs.filter((s) => !missing.includes(s.id));

    const second = await run(org);
    expect(second).toMatchObject({ status: 'attention', counts: { fetched: 9, unchanged: 9, deleted: 0 } });
    expect(second.run?.message).toContain('dropped 11 of 20');
    expect(await byId(org.id)).toEqual(before);
  });
});
