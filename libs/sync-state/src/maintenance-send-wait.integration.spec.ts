import { type Organization } from '@music/domain';
import { OrganizationRepository, withEntryIds } from '@music/persistence';
import { RedisLocks } from '@music/platform';
import { openTestRedis, openTestStore, testSecretBox, uniqueName, type TestStore } from '@music/testing';
import { DeliveryFailures } from './failures';
import { Maintenance } from './maintenance';
import { sendLeaseName } from './outbound';
import { createSyncState, type SyncState } from './sync-state';

/** The locks' usual wait, here shorter than a send may hold its item's send lease. */
const LOCK_WAIT_MS = 200;
/** The longest a send may hold its item's send lease (the app passes its send lease's TTL). */
const SEND_LEASE_WAIT_MS = 2500;

// docs/sync-model.md, rule 8, and docs/reliability.md, bug 11: before it lists the items, the
// removed-entries step has every pending item's send lease once, waiting for one held by a send on
// its way up to the longest a send may hold it (its call may take the whole outbound timeout, a
// crashed sender's lease frees after its TTL), not the locks' usual wait: otherwise every
// reconciliation of an organization whose third party answers more slowly than that wait ends not
// complete, and the periodic pass repeats it for good.
describe('configuration reconciliation: the wait for a send on its way (real store, real Redis)', () => {
  let store: TestStore;
  let redis: ReturnType<typeof openTestRedis>;
  let locks: RedisLocks;
  let sync: SyncState;
  let organizations: OrganizationRepository;
  let maintenance: Maintenance;
  let seq = 0;

  beforeAll(async () => {
    store = await openTestStore('send_wait');
    redis = openTestRedis();
    locks = new RedisLocks(redis, { prefix: uniqueName('send_wait'), waitMs: LOCK_WAIT_MS });
    sync = createSyncState({ models: store.models, locks });
    organizations = new OrganizationRepository(store.models, testSecretBox());
    maintenance = new Maintenance(sync.items, sync.outbound, store.models, new DeliveryFailures(store.models), organizations, locks, { sendLeaseWaitMs: SEND_LEASE_WAIT_MS });
  });
  afterAll(async () => {
    await store.close();
    redis.disconnect();
  });

  /** A two-way organization with a polling entry and an output webhook, and a local change pending: its send lease is the one taken. */
  const pendingItem = async (): Promise<{ org: Organization; lease: string }> => {
    const settings = withEntryIds({
      synchronization: 'two-way',
      webhooks: [{ type: 'output', url: 'http://127.0.0.1:9/sync', method: 'POST' }],
      polling: [{ endpoint: 'http://127.0.0.1:9/music', interval: 1, type: 'hour' as const, trackDeletes: true }],
      mappings: {},
      transforms: [],
    });
    const org = await organizations.create(`owner-${++seq}`, settings);
    const created = await sync.local.create(org, { externalId: 'x', data: { name: 'Song' } });
    expect(created.item.state).toBe('pending');
    return { org, lease: sendLeaseName(created.item.id) };
  };

  it('a send holding its lease longer than the lock wait: the reconciliation waits for it and goes through', async () => {
    const { org, lease } = await pendingItem();
    expect(await locks.acquire(lease, 'deliver-job', 30_000)).toBe(true);
    // The third party answers after a second: the job records it and gives the lease back.
    const answered = new Promise<void>((resolve) => setTimeout(() => void locks.release(lease, 'deliver-job').then(resolve), 1000));

    expect(await maintenance.reconcileConfiguration(org.id)).toMatchObject({ revision: org.revision, complete: true });
    await answered;
  });

  it("a crashed sender's lease: the reconciliation waits until it expires, and goes through", async () => {
    const { org, lease } = await pendingItem();
    // Taken, never renewed nor given back: it frees after its TTL.
    expect(await locks.acquire(lease, 'crashed-job', 1000)).toBe(true);

    expect(await maintenance.reconcileConfiguration(org.id)).toMatchObject({ revision: org.revision, complete: true });
  });

  it('a send holding its lease past that wait: the reconciliation is not complete (the periodic pass comes back)', async () => {
    const { org, lease } = await pendingItem();
    expect(await locks.acquire(lease, 'deliver-job', 30_000)).toBe(true);

    const started = performance.now();
    expect(await maintenance.reconcileConfiguration(org.id)).toMatchObject({ revision: org.revision, complete: false });
    expect(performance.now() - started).toBeGreaterThanOrEqual(SEND_LEASE_WAIT_MS);
    await locks.release(lease, 'deliver-job');
  });
});
