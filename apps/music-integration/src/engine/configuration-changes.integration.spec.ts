import { inventoryItemId } from '@music/domain';
import { withEntryIds } from '@music/persistence';
import { eventually } from '@music/testing';
import { IntegrationHarness } from '../integration.test-harness';
import { INTEGRATION } from '../container';

// What configuration changes and housekeeping do to pending work and stored state (rules 7, 8):
// removed webhooks, tombstones expiring, a purge nobody queued, a run reaching its time cap, and
// documents written by an earlier version.

const song = (id: string, name = `Song ${id}`) => ({ id, name, artist: `Artist ${id}`, album: `Album ${id}` });
const fields = (name: string) => ({ name, artist: 'A', album: 'B' });

describe('configuration changes and housekeeping (real store, real Redis)', () => {
  let h: IntegrationHarness;
  afterEach(async () => h.stop());

  it('removing the output webhook a change awaits cancels its delivery and settles the item, applying what the third party said meanwhile (row 17)', async () => {
    h = await new IntegrationHarness().start();
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    h.thirdParty.put(song('s1', 'Theirs'));
    await h.pollNow(org.id);
    h.thirdParty.failPath('/sync/create', 503);
    await h.updateLocal(org.id, 's1', fields('Ours'));
    await eventually(async () => h.thirdParty.deliveries.length > 0, 'a first attempt');
    // The third party changes it meanwhile: held (our change not settled yet).
    h.thirdParty.put(song('s1', 'Theirs, later'));
    expect(await h.pollNow(org.id)).toMatchObject({ counts: { conflicts: 1 } });

    const { id: _id, ownerId: _owner, revision: _r, createdAt: _c, updatedAt: _u, ...settings } = org;
    await h.organizations.replace(h.ownerId, org.id, withEntryIds({ ...settings, webhooks: [] }));
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);
    const [delivery] = await h.deliveries.listForOrganization(org.id, { limit: 5 });
    expect(delivery).toMatchObject({ status: 'cancelled', lastError: 'the output webhook was removed' });
    expect(await h.item(org.id, 's1')).toMatchObject({ state: 'synced', awaiting: [], held: null, data: { name: 'Theirs, later' }, origin: 'remote' });
  });

  it('a settled tombstone fences older snapshots until TOMBSTONE_RETENTION_MS after its fence, then goes (rows 9, 36)', async () => {
    h = await new IntegrationHarness().start({ POLL_RUN_MAX_MS: '1000', TOMBSTONE_RETENTION_MS: '1500' });
    const org = await h.createOrganization({ polling: [] });
    const { remote, clock } = h.sync;
    const before = await clock.now();
    await remote.applyUpserts(org.id, [{ externalId: 'g1', data: fields('x'), hash: 'h1' }], { kind: 'webhook', freshness: before, entries: [] });
    const deletedAt = await clock.now();
    expect(await remote.applyDeletes(org.id, ['g1'], { kind: 'webhook', freshness: deletedAt, entries: [] })).toMatchObject({ deleted: 1 });
    // A change older than the delete (a snapshot begun before it) does not bring it back.
    expect(await remote.applyUpserts(org.id, [{ externalId: 'g1', data: fields('x'), hash: 'h1' }], { kind: 'poll', entry: 'e', freshness: before })).toMatchObject({ stale: 1 });
    expect(await h.item(org.id, 'g1')).toMatchObject({ deleted: true, state: 'synced' });
    expect(await h.use(INTEGRATION.expireRetained).execute()).toMatchObject({ tombstones: 0 });
    await new Promise((r) => setTimeout(r, 1600));
    expect(await h.use(INTEGRATION.expireRetained).execute()).toMatchObject({ tombstones: 1 });
    expect(await h.item(org.id, 'g1')).toBeNull();
  });

  it('an organization marked deleted without its purge job queued is purged anyway: the sweeper queues it', async () => {
    h = await new IntegrationHarness().start({ PURGE_RECHECK_MS: '200' });
    const org = await h.createOrganization();
    h.thirdParty.put(song('p1'), song('p2'));
    await h.pollNow(org.id);
    await h.createLocal(org.id, 'p3', fields('Mine'));
    await h.drainOutput();
    // As music-config does it (its job lost with Redis, say): hidden at once.
    await h.organizations.markDeleted(h.ownerId, org.id);
    expect(await h.organizations.findById(org.id)).toBeNull();
    await eventually(
      async () => {
        const left = await Promise.all([
          h.store.models.inventoryItems.countDocuments({ organizationId: org.id }),
          h.store.models.deliveries.countDocuments({ organizationId: org.id }),
          h.store.models.syncRuns.countDocuments({ organizationId: org.id }),
          h.store.models.organizations.countDocuments({ _id: org.id }),
        ]);
        return left.every((n) => n === 0);
      },
      'the sweeper-queued purge to finish',
      15_000,
    );
  });

  it('a run reaching POLL_RUN_MAX_MS stops writing and ends partial, deleting nothing', async () => {
    h = await new IntegrationHarness().start({ POLL_RUN_MAX_MS: '1000', TOMBSTONE_RETENTION_MS: '60000' });
    const org = await h.createOrganization({ polling: [{ endpoint: `${h.thirdParty.baseUrl}/music`, interval: 1, type: 'hour', pagination: { type: 'page', limit: 1 } }] });
    h.thirdParty.put(song('c1'), song('c2'), song('c3'), song('c4'));
    h.thirdParty.musicDelayMs = 400;
    const outcome = await h.pollNow(org.id);
    expect(outcome).toMatchObject({ kind: 'done', status: 'partial' });
    if (outcome.kind !== 'done') throw new Error('expected a finished run');
    expect((await h.runs.findForOrganization(org.id, outcome.runId))?.message).toMatch(/POLL_RUN_MAX_MS/);
    expect((await h.items(org.id)).length).toBeLessThan(4);
  });

  it('items written by an earlier version are given their sync state at start-up', async () => {
    h = await new IntegrationHarness().start();
    const org = await h.createOrganization();
    const now = new Date();
    const legacy = (externalId: string, extra: Record<string, unknown>) => ({
      _id: inventoryItemId(org.id, externalId),
      organizationId: org.id,
      externalId,
      data: fields(externalId),
      origin: 'remote',
      hash: `h-${externalId}`,
      version: 1,
      settledVersion: 1,
      pendingEvent: null,
      remoteKnown: true,
      deletedAt: null,
      createdAt: now,
      updatedAt: now,
      ...extra,
    });
    // Written as the earlier version wrote them: no state, rev, fence or seenBy.
    await h.store.models.inventoryItems.collection.insertMany([
      legacy('settled', {}),
      legacy('unsent', { origin: 'local', version: 2, settledVersion: 1, pendingEvent: { id: 'ev', op: 'upsert', version: 2, at: now } }),
      legacy('tomb', { origin: 'local', version: 2, settledVersion: 1, deletedAt: now, pendingEvent: { id: 'ev2', op: 'delete', version: 2, at: now } }),
    ] as never[]);
    const migrated = await h.sync.maintenance.migrateLegacyItems(async () => org.polling.map((p) => p.id));
    expect(migrated).toBe(3);
    expect(await h.item(org.id, 'settled')).toMatchObject({ state: 'synced', deleted: false, rev: 0, seenBy: [org.polling[0]?.id], awaiting: [] });
    expect(await h.item(org.id, 'unsent')).toMatchObject({ state: 'pending', deleted: false, pendingEvent: { id: 'ev' } });
    expect(await h.item(org.id, 'tomb')).toMatchObject({ state: 'pending', deleted: true });
    const raw = await h.store.models.inventoryItems.collection.findOne({ _id: inventoryItemId(org.id, 'settled') as never });
    expect(raw).not.toHaveProperty('settledVersion');
    expect(await h.sync.maintenance.migrateLegacyItems(async () => [])).toBe(0);
  });
});
