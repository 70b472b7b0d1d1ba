import request from 'supertest';
import { provideFactory, resolve } from '@music/platform';
import type { SyncState } from '@music/sync-state';
import { eventually, HeldStep, replacing } from '@music/testing';
import { INTEGRATION } from '../container';
import { IntegrationHarness } from '../integration.test-harness';
import { ApplyInboundWebhookUseCase } from './use-cases/apply-inbound-webhook.use-case';

const song = (id: string, name: string) => ({ id, name, artist: 'Remote Artist', album: 'Remote Album' });

// Rules 2 and 7: a call older than TOMBSTONE_RETENTION_MS never creates an item, because the
// tombstone that would have fenced it may have expired. A call on its way to its write when that
// tombstone expires is such a call, however young it was when it set out.
describe('an input webhook call at the edge of the tombstone retention (rules 2, 7)', () => {
  let h: IntegrationHarness;
  const write = new HeldStep();
  beforeEach(async () => {
    h = new IntegrationHarness();
    // The calls' upserts reach the one writer through this step, held when armed.
    h.overrides = (c) => {
      provideFactory(c, INTEGRATION.applyInbound, (c) => {
        const sync = resolve(c, INTEGRATION.syncState);
        const remote = replacing(sync.remote, 'applyUpserts', async (real, ...args) => {
          await write.pass();
          return real(...args);
        });
        return new ApplyInboundWebhookUseCase({
          organizations: resolve(c, INTEGRATION.organizations),
          sync: { ...sync, remote } as SyncState,
          configuration: resolve(c, INTEGRATION.configurationMemory),
          mappings: resolve(c, INTEGRATION.mappings),
          logger: resolve(c, INTEGRATION.logger),
          tombstoneRetentionMs: resolve(c, INTEGRATION.config).TOMBSTONE_RETENTION_MS,
          metrics: null,
        });
      });
    };
    await h.start({ POLL_RUN_MAX_MS: '1000', TOMBSTONE_RETENTION_MS: '1500' });
  });
  afterEach(async () => {
    write.letGo();
    await h.stop();
  });

  const applied = (organizationId: string) =>
    eventually(async () => (await h.store.models.inboundMessages.countDocuments({ organizationId, appliedAt: null })) === 0, 'the calls to be applied');

  it('a call accepted before a delete, held on its way to the write while the tombstone expires, does not create the item', async () => {
    const org = await h.createOrganization({ polling: [] });
    expect((await request(h.app).post(`/sync?orgId=${org.id}`).send(song('g', 'First'))).status).toBe(202);
    await applied(org.id);
    expect(await h.item(org.id, 'g')).toMatchObject({ deleted: false, data: { name: 'First' } });

    // A later change is accepted (its freshness: now), and held once it is on its way to the write...
    write.holdNext();
    expect((await request(h.app).post(`/sync?orgId=${org.id}`).send(song('g', 'Before the delete'))).status).toBe(202);
    await write.reached;
    // ...while the third party deletes the item (a DELETE call accepted after it): a tombstone fenced now.
    const deletedAt = await h.sync.clock.now();
    expect(await h.sync.remote.applyDeletes(org.id, ['g'], { kind: 'webhook', freshness: deletedAt, entries: [] })).toMatchObject({ deleted: 1 });
    // The tombstone expires as the maintenance expires it, TOMBSTONE_RETENTION_MS after its fence.
    await eventually(
      async () => {
        await h.use(INTEGRATION.expireRetained).execute();
        return (await h.item(org.id, 'g')) === null;
      },
      'the tombstone to expire',
      5_000,
    );
    write.letGo();
    await applied(org.id);

    // The call predates the delete: it must not bring the item back.
    expect(await h.item(org.id, 'g')).toBeNull();
  });
});
