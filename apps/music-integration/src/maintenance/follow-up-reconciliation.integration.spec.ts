import request from 'supertest';
import { inventoryItemId, type Organization } from '@music/domain';
import { createLogger, itemLockName, provideFactory, provideValue, RedisLocks, resolve } from '@music/platform';
import { createSyncState } from '@music/sync-state';
import { captureJsonLog, eventually, Gate, replacing } from '@music/testing';
import { INTEGRATION } from '../container';
import { IntegrationHarness } from '../integration.test-harness';

const song = (id: string) => ({ id, name: `Song ${id}`, artist: 'Artist', album: 'Album' });
const ours = { name: 'ours', artist: 'Local Artist', album: 'Local Album' };

/** The locks' wait here: an item lock held past it is deferred quickly. */
const LOCK_WAIT_MS = 300;

/**
 * The check a write makes after it wrote (`Maintenance.reconcileEntriesRemovedSince`): for a
 * polling entry removed while it wrote, the configuration is applied again (rules 6, 8). When that
 * follow-up reconciliation does not go through, or the check itself fails, the change's own
 * reconciliation stays remembered though it ran before the write: the memory is forgotten then, so
 * the periodic pass applies the configuration again, rather than a day later. A write already made
 * that its caller reports (an accept, an answer learned again) is reported as made.
 */
describe('after a write, the configuration applied again for a polling entry removed meanwhile (rules 6, 8)', () => {
  let h: IntegrationHarness;
  /** Runs before the check, when set. */
  let beforeCheck: (() => Promise<void>) | null = null;
  /** The check fails, when set. */
  let failCheck = false;
  const warnings: Array<Record<string, unknown>> = [];

  beforeEach(async () => {
    h = new IntegrationHarness();
    h.overrides = (c) => {
      const logger = createLogger({ service: 'test', level: 'warn', format: 'json' });
      captureJsonLog(logger, warnings);
      provideValue(c, INTEGRATION.logger, logger);
      provideFactory(c, INTEGRATION.locks, (c) => new RedisLocks(resolve(c, INTEGRATION.redis), { prefix: resolve(c, INTEGRATION.config).QUEUE_PREFIX, waitMs: LOCK_WAIT_MS }));
      provideFactory(c, INTEGRATION.syncState, (c) => {
        const sync = createSyncState({ models: resolve(c, INTEGRATION.models), locks: resolve(c, INTEGRATION.locks) });
        const maintenance = replacing(sync.maintenance, 'reconcileEntriesRemovedSince', async (real, ...args) => {
          await beforeCheck?.();
          if (failCheck) throw new Error('injected: the store did not answer the check');
          return real(...args);
        });
        return { ...sync, maintenance };
      });
    };
    // No workers: the test runs the polls and the deliveries itself, each at its moment.
    await h.start({ RUN_WORKERS: 'false' });
  });
  afterEach(async () => {
    beforeCheck = null;
    failCheck = false;
    warnings.length = 0;
    await h.stop();
  });

  const memory = () => h.use(INTEGRATION.configurationMemory);
  const poll = (org: Organization, index: number) => {
    const entry = org.polling[index];
    if (!entry) throw new Error(`no polling entry ${index}`);
    return h.use(INTEGRATION.pollRun).execute({ version: 1, organizationId: org.id, pollingId: entry.id, trigger: 'manual' }, async () => undefined);
  };

  /** An organization with two polling entries (both listing `x`) and one output webhook. */
  async function polledTwice(): Promise<Organization> {
    h.thirdParty.put(song('x'));
    h.thirdParty.list('first', ['x']);
    h.thirdParty.list('second', ['x']);
    const org = await h.createOrganization({
      webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }],
      polling: [
        { endpoint: `${h.thirdParty.baseUrl}/music/first`, interval: 1, type: 'hour' },
        { endpoint: `${h.thirdParty.baseUrl}/music/second`, interval: 1, type: 'hour' },
      ],
    });
    await poll(org, 0);
    await poll(org, 1);
    return org;
  }

  it('a follow-up reconciliation that could not lock an item in time is not left remembered: the periodic pass takes the removed entry out', async () => {
    const org = await polledTwice();
    const [first, second] = org.polling.map((p) => p.id);
    // The first entry's next poll has its answer on the way...
    h.thirdParty.holdNextList();
    const running = poll(org, 0);
    await eventually(async () => h.thirdParty.heldLists > 0, 'the poll to fetch');
    // ...while the owner removes that entry, and its reconciliation runs and is remembered.
    const removed = await h.removeFirstEntry(org);
    expect(await memory().isCurrent(removed)).toBe(true);

    // The run writes the item under both entries; when it checks, another writer holds the item's
    // lock past the lock wait, so the follow-up reconciliation leaves the item as it is.
    const gate = new Gate();
    gate.close();
    let holder: Promise<void> = Promise.resolve();
    beforeCheck = async () => {
      beforeCheck = null;
      let holding: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (holding = resolve));
      holder = h.use(INTEGRATION.locks).withLock(itemLockName(inventoryItemId(org.id, 'x')), async () => {
        holding();
        await gate.wait();
      });
      await held;
    };
    h.thirdParty.releaseList();
    expect(await running).toMatchObject({ kind: 'done' });
    gate.open();
    await holder;
    expect((await h.item(org.id, 'x'))?.seenBy.slice().sort()).toEqual([first, second].sort());
    expect(await memory().isCurrent(removed)).toBe(false);

    // The periodic pass, as the product runs it: only the entry that remains lists the item (rule 6).
    await h.use(INTEGRATION.reconcileAll).execute();
    expect((await h.item(org.id, 'x'))?.seenBy).toEqual([second]);
    expect(await memory().isCurrent(removed)).toBe(true);
  });

  it('accepting a remote version whose check fails after the accept was written: the accept is answered, and the periodic pass applies the configuration again', async () => {
    const org = await polledTwice();
    // Our edit is refused for good (row 16): diverged, the third party still holding its own version, nothing held.
    h.thirdParty.failPath('/sync/create', 400);
    const item = await h.updateLocal(org.id, 'x', ours, false);
    await h.use(INTEGRATION.fanOutChange).execute({ version: 1, organizationId: org.id, itemId: item.id, eventId: (item.pendingEvent as { id: string }).id });
    expect(await h.item(org.id, 'x')).toMatchObject({ state: 'diverged', held: null });
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);
    expect(await memory().isCurrent(org)).toBe(true);

    failCheck = true;
    const answer = await request(h.app).post(`/organization/${org.id}/divergences/x/accept-remote`).set('authorization', `Bearer ${h.token()}`).send({});

    // The accept happened: it is answered as such (a retry would find no divergence any more).
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ externalId: 'x', state: 'synced', data: ours });
    expect(await h.item(org.id, 'x')).toMatchObject({ state: 'synced', data: ours });
    expect(warnings).toContainEqual(expect.objectContaining({ level: 'warn', orgId: org.id, externalId: 'x', err: 'injected: the store did not answer the check' }));
    // Forgotten: the periodic pass applies the configuration again.
    expect(await memory().isCurrent(org)).toBe(false);
    failCheck = false;
    await h.use(INTEGRATION.reconcileAll).execute();
    expect(await memory().isCurrent(org)).toBe(true);
  });

  it('a deliver job run again whose check fails after the answer was learned again: the job is done, and the periodic pass applies the configuration again', async () => {
    const org = await polledTwice();
    // The delivery answered, its job's run interrupted before the item learned it.
    const delivery = await h.answeredNotLearned(org.id, 'y', ours);
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);
    expect(await memory().isCurrent(org)).toBe(true);

    failCheck = true;
    const outcome = await h.use(INTEGRATION.deliverChange).execute({ deliveryId: delivery.id, attemptNumber: 3 });

    expect(outcome.unwrap()).toMatchObject({ kind: 'done', status: 'skipped' });
    expect(await h.item(org.id, 'y')).toMatchObject({ state: 'synced', remoteKnown: true });
    expect(warnings).toContainEqual(expect.objectContaining({ level: 'warn', orgId: org.id, deliveryId: delivery.id, externalId: 'y' }));
    expect(await memory().isCurrent(org)).toBe(false);
    failCheck = false;
    await h.use(INTEGRATION.reconcileAll).execute();
    expect(await memory().isCurrent(org)).toBe(true);
  });
});
