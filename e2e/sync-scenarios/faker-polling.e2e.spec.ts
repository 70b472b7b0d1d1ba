import { startFakerServer, type FakerServer } from '../../apps/music-faker/src/app';
import { IntegrationHarness } from '../../apps/music-integration/src/integration.test-harness';

// Incremental polling and page memory against the faker over HTTP (its updatedSince parameter,
// ETags and 304s), through the integration engine on the real store and Redis.

describe('polling the faker: incremental runs, full snapshots, conditional requests', () => {
  let h: IntegrationHarness;
  let faker: FakerServer;
  const queries: URLSearchParams[] = [];
  const conditional: boolean[] = [];

  beforeEach(async () => {
    h = await new IntegrationHarness().start();
    faker = await startFakerServer({ seed: 5 });
    faker.server.prependListener('request', (req) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/music') return;
      queries.push(url.searchParams);
      conditional.push(req.headers['if-none-match'] !== undefined);
    });
    faker.state.generate(25);
  });
  afterEach(async () => {
    await faker.close();
    await h.stop();
    queries.length = 0;
    conditional.length = 0;
  });

  const organization = (polling: Record<string, unknown>) =>
    h.createOrganization({ synchronization: 'one-way', webhooks: [], polling: [{ endpoint: `${faker.baseUrl}/music`, interval: 1, type: 'hour', pagination: { type: 'page', limit: 10 }, ...polling }] });
  const done = async (organizationId: string) => {
    const outcome = await h.pollNow(organizationId);
    if (outcome.kind !== 'done') throw new Error(`poll ended ${outcome.kind}`);
    return outcome;
  };

  it('an incremental run asks for what changed since the highest updatedAt seen; deletions wait for the full snapshot', async () => {
    // Cursor pagination: a complete walk sees a delete at once (page numbers without a total need two misses).
    const org = await organization({ pagination: { type: 'cursor', limit: 10 }, incremental: { cursorField: 'updatedAt', queryParam: 'updatedSince', fullSnapshotEvery: 3 } });
    // Run 1: full (no cursor yet).
    expect(await done(org.id)).toMatchObject({ status: 'succeeded', counts: { created: 25 } });
    expect(queries.every((q) => !q.has('updatedSince'))).toBe(true);
    const highest = faker.state
      .list()
      .map((s) => s['updatedAt'] as string)
      .sort()
      .pop();

    // Run 2: incremental, one song renamed on the faker (stamped later).
    await new Promise((r) => setTimeout(r, 5));
    const [first, second] = faker.state.list();
    faker.state.upsert({ id: first?.id as string, name: 'Renamed' });
    queries.length = 0;
    const incremental = await done(org.id);
    // Songs generated in the same millisecond as the highest are read again (the parameter is inclusive).
    expect(new Set(queries.map((q) => q.get('updatedSince')))).toEqual(new Set([highest]));
    expect(incremental).toMatchObject({ status: 'succeeded', counts: { updated: 1, deleted: 0 } });
    expect(incremental.counts.fetched).toBeLessThan(25);
    expect((await h.item(org.id, first?.id as string))?.data['name']).toBe('Renamed');

    // Run 3: incremental too; a song deleted on the faker is not deleted here (an incremental run never deletes).
    faker.state.remove(second?.id as string);
    queries.length = 0;
    expect(await done(org.id)).toMatchObject({ status: 'succeeded', counts: { deleted: 0 } });
    expect(queries.every((q) => q.has('updatedSince'))).toBe(true);
    expect(await h.item(org.id, second?.id as string)).toMatchObject({ deleted: false });

    // Run 4: the full snapshot, which tracks deletions.
    queries.length = 0;
    expect(await done(org.id)).toMatchObject({ status: 'succeeded', counts: { deleted: 1, fetched: 24 } });
    expect(queries.every((q) => !q.has('updatedSince'))).toBe(true);
    expect(await h.item(org.id, second?.id as string)).toMatchObject({ deleted: true });
  });

  it('an unchanged re-poll of the faker is answered 304 page by page and writes nothing', async () => {
    const org = await organization({});
    expect(await done(org.id)).toMatchObject({ counts: { created: 25 } });
    conditional.length = 0;
    const again = await done(org.id);
    expect(again).toMatchObject({ status: 'succeeded', counts: { fetched: 25, unchanged: 25, created: 0, updated: 0 } });
    expect(conditional).toEqual([true, true, true]);
    // A song renamed on the faker: its page is read again and applied.
    const [, , third] = faker.state.list();
    faker.state.upsert({ id: third?.id as string, name: 'Changed' });
    expect(await done(org.id)).toMatchObject({ counts: { updated: 1, unchanged: 24 } });
  });
});
