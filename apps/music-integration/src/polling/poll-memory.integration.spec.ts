import mongoose, { type Connection } from 'mongoose';
import { inventoryItemId, organizationInputSchema } from '@music/domain';
import { createModels, PollMemoryRepository, withEntryIds, type Models } from '@music/persistence';
import { RedisLocks } from '@music/platform';
import { createSyncState } from '@music/sync-state';
import { openTestRedis, testUrls } from '@music/testing';
import { TRACK_MAPPINGS, IntegrationHarness } from '../integration.test-harness';
import { type PollRun } from './poll-run';

type Song = { id: string; name: string; artist: string; album: string };
const song = (id: number, name = `Song ${id}`): Song => ({ id: String(id), name, artist: `Artist ${id}`, album: `Album ${id}` });

/** The store commands one connection sent, by collection (command monitoring of the MongoDB driver). */
interface Commands {
  on(collection: string): Array<{ name: string; command: Record<string, unknown> }>;
  reset(): void;
}

async function monitoredModels(dbName: string): Promise<{ models: Models; commands: Commands; connection: Connection }> {
  const connection = mongoose.createConnection(testUrls().mongoUrl, { dbName, monitorCommands: true, retryWrites: false });
  await connection.asPromise();
  const seen: Array<{ name: string; collection: string; command: Record<string, unknown> }> = [];
  connection.getClient().on('commandStarted', (e) => {
    const collection = e.command[e.commandName];
    seen.push({ name: e.commandName, collection: typeof collection === 'string' ? collection : '', command: e.command as Record<string, unknown> });
  });
  return {
    models: createModels(connection),
    connection,
    commands: {
      on: (collection) => seen.filter((c) => c.collection === collection),
      reset: () => void seen.splice(0),
    },
  };
}

describe('polls skip unchanged pages (real store, command monitoring)', () => {
  let h: IntegrationHarness;
  /** The third party's list, in order (edited in place by a test: a record listed twice included). */
  let records: Song[] = [];
  /** When set, the answer to that page waits until `release` resolves (`reached` is called first). */
  let hold: { page: number; reached: () => void; release: Promise<void> } | null = null;
  let models: Models;
  let commands: Commands;
  let connection: Connection;
  let poll: PollRun;
  /** The headers of every list request the third party received. */
  const requests = () => h.thirdParty.listRequests.map((r) => r.headers);

  beforeEach(async () => {
    h = await new IntegrationHarness().start();
    records = Array.from({ length: 25 }, (_, i) => song(i + 1));
    hold = null;
    // Page-number pagination, 10 a page; with the stub's `etags`, a strong ETag per answer and 304 on If-None-Match.
    h.thirdParty.listedRecords = records;
    h.thirdParty.onList = async ({ params }) => {
      if (hold && hold.page === Number(params.get('page'))) {
        hold.reached();
        await hold.release;
      }
    };
    ({ models, commands, connection } = await monitoredModels(h.store.dbName));
    const locks = new RedisLocks(h.redis, { prefix: h.prefix });
    poll = h.pollRunOver({ models, records: models, locks, memory: new PollMemoryRepository(models) });
  });
  afterEach(async () => {
    await connection.close();
    await h.stop();
  });

  const organization = (synchronization: 'one-way' | 'two-way' = 'one-way') =>
    h.createOrganization({ synchronization, webhooks: [], polling: [{ endpoint: `${h.thirdParty.baseUrl}/music`, interval: 1, type: 'hour', pagination: { type: 'page', limit: 10 } }] });

  const run = async (organizationId: string) => {
    const org = await h.organizations.findById(organizationId);
    const outcome = await poll.execute({ version: 1, organizationId, pollingId: org?.polling[0]?.id as string, trigger: 'manual' }, async () => undefined);
    if (outcome.kind !== 'done') throw new Error(`poll ended ${outcome.kind}`);
    return outcome;
  };
  /** The externalIds a run read from inventory_items (reads by _id), and whether it wrote any. */
  const itemTraffic = () => {
    const onItems = commands.on('inventory_items');
    const read = onItems
      .filter((c) => c.name === 'find')
      .flatMap((c) => (c.command['filter'] as { _id?: { $in?: string[] } })?._id?.$in ?? []);
    const writes = onItems.filter((c) => ['insert', 'update', 'delete', 'findAndModify'].includes(c.name)).length;
    return { commands: onItems.length, read, writes };
  };

  it('an unchanged re-poll reads no item and writes nothing, and needs no deletion pass', async () => {
    const org = await organization();
    expect(await run(org.id)).toMatchObject({ status: 'succeeded', counts: { created: 25 } });
    commands.reset();
    expect(await run(org.id)).toMatchObject({ status: 'succeeded', counts: { fetched: 25, unchanged: 25, created: 0, updated: 0, deleted: 0 } });
    expect(itemTraffic()).toEqual({ commands: 0, read: [], writes: 0 });
    // Nor is anything written about the pages: the memory is already right.
    expect(commands.on('poll_memory').filter((c) => c.name !== 'find')).toHaveLength(0);
    // And again (the memory stays true after a run that skipped everything).
    commands.reset();
    expect(await run(org.id)).toMatchObject({ counts: { unchanged: 25 } });
    expect(itemTraffic().commands).toBe(0);
  });

  it("a first run inserts its remembered pages (no page looked up), and a page another writer stored meanwhile is replaced, not lost", async () => {
    const org = await organization();
    const entryId = org.polling[0]?.id as string;
    commands.reset();
    expect(await run(org.id)).toMatchObject({ status: 'succeeded', counts: { created: 25 } });
    const pageWrites = commands.on('poll_memory').filter((c) => c.name !== 'find');
    const pageIdsIn = (c: { command: Record<string, unknown> }): string[] =>
      [...((c.command['documents'] as Array<{ _id: string }> | undefined) ?? []), ...((c.command['updates'] as Array<{ q: { _id: string } }> | undefined) ?? []).map((u) => u.q)].map((d) => String(d._id)).filter((id) => /:p\d+$/.test(id));
    // Three pages, each written once, by inserts: a replace would look each one up.
    expect(pageWrites.filter((c) => c.name === 'insert').flatMap(pageIdsIn)).toHaveLength(3);
    expect(pageWrites.filter((c) => c.name !== 'insert').flatMap(pageIdsIn)).toEqual([]);
    // And they are right: the re-poll skips every page.
    commands.reset();
    expect(await run(org.id)).toMatchObject({ counts: { unchanged: 25 } });
    expect(itemTraffic().commands).toBe(0);

    // A writer that believed a page new (it was not stored when it read the memory) replaces it all the same.
    const memory = new PollMemoryRepository(models);
    const before = (await memory.read(org.id, entryId)).pages.get(0);
    if (!before) throw new Error('page 0 was not remembered');
    await memory.savePages(org.id, entryId, [{ ...before, fingerprint: 'another', etag: '"other"' }], () => false);
    expect((await memory.read(org.id, entryId)).pages.get(0)).toMatchObject({ fingerprint: 'another', etag: '"other"', idCount: before.idCount });
  });

  it('pages remembered before their id count was stored are skipped all the same', async () => {
    const org = await organization();
    await run(org.id);
    expect(await models.pollMemory.countDocuments({ organizationId: org.id, kind: 'page', idCount: 10 })).toBe(2);
    await models.pollMemory.updateMany({ organizationId: org.id, kind: 'page' }, { $unset: { idCount: 1 } });
    commands.reset();
    expect(await run(org.id)).toMatchObject({ status: 'succeeded', counts: { fetched: 25, unchanged: 25, created: 0, updated: 0, deleted: 0 } });
    expect(itemTraffic()).toEqual({ commands: 0, read: [], writes: 0 });
  });

  it('a local write between runs forces the normal path: the third party (one-way: the source) wins again', async () => {
    const org = await organization('one-way');
    await run(org.id);
    const item = await h.sync.items.read((await h.item(org.id, '3'))?._id as string);
    const outcome = await h.sync.local.update(org, item as NonNullable<typeof item>, { name: 'Local', artist: 'Artist 3', album: 'Album 3' });
    expect(outcome.kind).toBe('written');
    commands.reset();
    expect(await run(org.id)).toMatchObject({ status: 'succeeded', counts: { updated: 1, unchanged: 24 } });
    expect((await h.item(org.id, '3'))?.data['name']).toBe('Song 3');
    expect(itemTraffic().read.length).toBeGreaterThan(0);
  });

  it('a local write while a run is under way is seen before the next page is skipped: that page and the rest take the normal path', async () => {
    const org = await organization('one-way');
    await run(org.id);
    // The second run reads the mark and skips page 1; page 2's answer is held while item 15 (on page 2) is written.
    let reached!: () => void;
    const atPage2 = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    hold = { page: 2, reached, release: new Promise<void>((resolve) => (release = resolve)) };
    const second = run(org.id);
    await atPage2;
    const item = await h.sync.items.read((await h.item(org.id, '15'))?._id as string);
    expect((await h.sync.local.update(org, item as NonNullable<typeof item>, { name: 'Local', artist: 'Artist 15', album: 'Album 15' })).kind).toBe('written');
    commands.reset();
    release();
    // Page 2 is not skipped on the strength of a mark that has moved: it is read and applied, and
    // one-way, the third party's version wins again (without the re-check: 25 unchanged, 'Local' kept).
    expect(await second).toMatchObject({ status: 'succeeded', counts: { fetched: 25, unchanged: 24, updated: 1 } });
    expect(itemTraffic().read).toContain(inventoryItemId(org.id, '15'));
    expect((await h.item(org.id, '15'))?.data['name']).toBe('Song 15');
  });

  it('a local write whose write mark could not be raised (Redis unreachable) forgets the remembered pages', async () => {
    const org = await organization('one-way');
    await run(org.id);
    // A writer whose Redis connection is gone: its item lock fails open, the write goes on.
    const broken = openTestRedis();
    broken.disconnect();
    const writer = createSyncState({ models: h.store.models, locks: new RedisLocks(broken, { prefix: h.prefix, waitMs: 200 }) });
    const item = await writer.items.read((await h.item(org.id, '8'))?._id as string);
    expect((await writer.local.update(org, item as NonNullable<typeof item>, { name: 'Local', artist: 'Artist 8', album: 'Album 8' })).kind).toBe('written');
    expect((await h.item(org.id, '8'))?.data['name']).toBe('Local');
    expect(await run(org.id)).toMatchObject({ counts: { updated: 1, unchanged: 24 } });
    expect((await h.item(org.id, '8'))?.data['name']).toBe('Song 8');
  });

  it('a changed record on one page: only that page is read and written; the others are skipped', async () => {
    const org = await organization();
    await run(org.id);
    records[14] = song(15, 'Renamed');
    commands.reset();
    expect(await run(org.id)).toMatchObject({ status: 'succeeded', counts: { updated: 1, unchanged: 24, deleted: 0 } });
    expect((await h.item(org.id, '15'))?.data['name']).toBe('Renamed');
    expect(new Set(itemTraffic().read)).toEqual(new Set(records.slice(10, 20).map((r) => inventoryItemId(org.id, r.id))));
    // Its write moved the mark by its own raises only: the next unchanged run skips everything again.
    commands.reset();
    expect(await run(org.id)).toMatchObject({ counts: { unchanged: 25 } });
    expect(itemTraffic().commands).toBe(0);
  });

  it('a record gone from the last page: that page is applied and the deletion passes run (two misses without a total)', async () => {
    const org = await organization();
    await run(org.id);
    records.splice(records.findIndex((r) => r.id === '24'), 1);
    expect(await run(org.id)).toMatchObject({ status: 'succeeded', counts: { deleted: 0, unchanged: 24 } });
    // Every page now as remembered, but the last pass left a first miss: the pass runs again.
    expect(await run(org.id)).toMatchObject({ status: 'succeeded', counts: { deleted: 1, unchanged: 24 } });
    expect((await h.items(org.id)).map((i) => i.externalId)).not.toContain('24');
  });

  it('a record listed twice in one run: nothing of that run is trusted, and the next run applies what changed', async () => {
    const org = await organization();
    await run(org.id);
    // Song 5 stays on page 1 (skipped: as remembered) and appears again on page 2 as "Twice", which applies.
    records[12] = song(5, 'Twice');
    await run(org.id);
    expect((await h.item(org.id, '5'))?.data['name']).toBe('Twice');
    // The third party fixes its list: page 1 is byte for byte as remembered, yet song 5 must become "Song 5" again.
    records[12] = song(13);
    await run(org.id);
    expect((await h.item(org.id, '5'))?.data['name']).toBe('Song 5');
  });

  it('a mapping change forces the normal path and the change is applied', async () => {
    const org = await organization();
    await run(org.id);
    const settings = withEntryIds(
      organizationInputSchema.parse({
        synchronization: 'one-way',
        webhooks: [],
        polling: org.polling,
        mappings: { ...TRACK_MAPPINGS, name: { type: 'string', source: 'artist', required: true } },
        transforms: [],
      }),
    );
    await h.organizations.replace(h.ownerId, org.id, { ...settings, name: org.name, polling: org.polling });
    commands.reset();
    expect(await run(org.id)).toMatchObject({ status: 'succeeded', counts: { updated: 25 } });
    expect((await h.item(org.id, '7'))?.data['name']).toBe('Artist 7');
  });

  it('conditional requests: If-None-Match with the remembered ETag, 304 counted as the same page', async () => {
    h.thirdParty.etags = true;
    const org = await organization();
    await run(org.id);
    expect(requests().every((r) => r['if-none-match'] === undefined)).toBe(true);
    h.thirdParty.listRequests.length = 0;
    commands.reset();
    expect(await run(org.id)).toMatchObject({ status: 'succeeded', counts: { fetched: 25, unchanged: 25 } });
    expect(requests().map((r) => r['if-none-match'])).toEqual([expect.any(String), expect.any(String), expect.any(String)]);
    expect(itemTraffic().commands).toBe(0);
    // A change: that page's ETag no longer matches, its records are read and applied.
    records[3] = song(4, 'Changed');
    expect(await run(org.id)).toMatchObject({ counts: { updated: 1, unchanged: 24 } });
    expect((await h.item(org.id, '4'))?.data['name']).toBe('Changed');
  });
});
