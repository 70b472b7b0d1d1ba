import request from 'supertest';
import type { Organization } from '@music/domain';
import type { SyncState } from '@music/sync-state';
import { eventually, HeldStep, replacing } from '@music/testing';
import { INTEGRATION } from '../container';
import { IntegrationHarness } from '../integration.test-harness';
import type { PollRun } from './poll-run';

const song = (id: string, name = `Song ${id}`) => ({ id, name, artist: 'Remote Artist', album: 'Remote Album' });

// Rules 2 and 7: a snapshot that began before an item was deleted never brings it back. The
// tombstone that fences it is kept TOMBSTONE_RETENTION_MS, longer than POLL_RUN_MAX_MS, and a run
// checks its cap before each page; a run stalled between that check and its page's write (a GC
// pause, a stopped container, a slow store) past the retention finds no tombstone left: its
// records must not create the item all the same.
describe('a poll at the edge of the tombstone retention (rules 2, 7)', () => {
  let h: IntegrationHarness;
  let poll: PollRun;
  // The run's pages reach the one writer through this step, held when armed (after the cap check).
  const write = new HeldStep();
  beforeEach(async () => {
    h = await new IntegrationHarness().start({ POLL_RUN_MAX_MS: '1000', TOMBSTONE_RETENTION_MS: '1500' });
    poll = h.pollRunOver({
      sync: (sync) => {
        const remote = replacing(sync.remote, 'prepareUpserts', async (real, ...args) => {
          await write.pass();
          return real(...args);
        });
        return { ...sync, remote } as SyncState;
      },
    });
  });
  afterEach(async () => {
    write.letGo();
    await h.stop();
  });

  const run = (org: Organization) => poll.execute({ version: 1, organizationId: org.id, pollingId: org.polling[0]?.id as string, trigger: 'manual' }, async () => undefined);
  const applied = (organizationId: string) =>
    eventually(async () => (await h.store.models.inboundMessages.countDocuments({ organizationId, appliedAt: null })) === 0, 'the calls to be applied');
  /** The third party deletes the item and says so (an input webhook DELETE, fenced when accepted); its tombstone then expires as the maintenance expires it. */
  const deletedAndForgotten = async (org: Organization, externalId: string) => {
    expect((await request(h.app).delete(`/sync?orgId=${org.id}`).send(song(externalId))).status).toBe(202);
    await applied(org.id);
    expect(await h.item(org.id, externalId)).toMatchObject({ deleted: true });
    await eventually(
      async () => {
        await h.use(INTEGRATION.expireRetained).execute();
        return (await h.item(org.id, externalId)) === null;
      },
      'the tombstone to expire',
      5_000,
    );
  };

  it('a run of an organization that holds items, stalled before a page past the retention, does not bring back an item deleted meanwhile', async () => {
    h.thirdParty.put(song('f'), song('g'));
    const org = await h.createOrganization();
    expect(await run(org)).toMatchObject({ status: 'succeeded', counts: { created: 2 } });

    // The next run reads the page (both listed), passes its cap check, and stalls before the write...
    write.holdNext();
    const running = run(org);
    await write.reached;
    // ...while the third party deletes one of them, and the tombstone expires.
    await deletedAndForgotten(org, 'g');
    write.letGo();

    expect(await running).toMatchObject({ kind: 'done', counts: { created: 0 } });
    expect(await h.item(org.id, 'g')).toBeNull();
    expect(await h.item(org.id, 'f')).toMatchObject({ deleted: false });
  });

  it('a first run (its pages inserted first), stalled before a page past the retention, does not bring back an item created and deleted meanwhile', async () => {
    h.thirdParty.put(song('g'));
    const org = await h.createOrganization();

    // The run starts with no item (its pages go insert-first), reads the page, and stalls before the write...
    write.holdNext();
    const running = run(org);
    await write.reached;
    // ...while the third party tells us of the item, then deletes it, and the tombstone expires.
    expect((await request(h.app).post(`/sync?orgId=${org.id}`).send(song('g', 'Told later'))).status).toBe(202);
    await applied(org.id);
    expect(await h.item(org.id, 'g')).toMatchObject({ deleted: false, data: { name: 'Told later' } });
    await deletedAndForgotten(org, 'g');
    write.letGo();

    expect(await running).toMatchObject({ kind: 'done', counts: { created: 0 } });
    expect(await h.item(org.id, 'g')).toBeNull();
  });
});
