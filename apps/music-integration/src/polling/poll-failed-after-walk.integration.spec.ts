import { provideFactory, resolve } from '@music/platform';
import { createSyncState } from '@music/sync-state';
import { replacing } from '@music/testing';
import { INTEGRATION } from '../container';
import { IntegrationHarness } from '../integration.test-harness';

const song = (id: string) => ({ id, name: `Song ${id}`, artist: 'Artist', album: 'Album' });

// A run whose error comes after its walk (the store failing in the check for a polling entry removed
// meanwhile, or in the deletion pass) is recorded `failed` with the error, as one failing during the
// walk is: never left `running`, which the status would show for good (docs/sync-model.md, "Status").
describe('poll runs: an error after the walk records the run failed (real store, real Redis)', () => {
  let h: IntegrationHarness;
  /** The step of the one writer that fails while armed. */
  let failing: 'entry check' | 'deletion pass' | null = null;
  const injected = (step: string) => Promise.reject(new Error(`injected: the store did not answer the ${step}`));

  beforeEach(async () => {
    h = new IntegrationHarness();
    h.overrides = (c) => {
      provideFactory(c, INTEGRATION.syncState, (c) => {
        const sync = createSyncState({ models: resolve(c, INTEGRATION.models), locks: resolve(c, INTEGRATION.locks) });
        return {
          ...sync,
          maintenance: replacing(sync.maintenance, 'reconcileEntriesRemovedSince', (real, ...args) => (failing === 'entry check' ? injected(failing) : real(...args))),
          remote: replacing(sync.remote, 'reconcileSnapshot', (real, ...args) => (failing === 'deletion pass' ? injected(failing) : real(...args))),
        };
      });
    };
    await h.start();
    h.thirdParty.put(song('a'), song('b'), song('c'));
  });
  afterEach(async () => {
    failing = null;
    await h.stop();
  });

  const latestRun = async (org: { id: string; polling: Array<{ id: string }> }) => h.runs.findLatestStarted(org.id, org.polling[0]?.id as string);

  it('the check for a polling entry removed while it ran fails: the run is failed', async () => {
    const org = await h.createOrganization();
    failing = 'entry check';
    await expect(h.pollNow(org.id)).rejects.toThrow('injected: the store did not answer the entry check');
    // The walk had written every record.
    expect(await h.items(org.id)).toHaveLength(3);
    expect(await latestRun(org)).toMatchObject({ status: 'failed', message: 'injected: the store did not answer the entry check' });
  });

  it('the deletion pass fails: the run is failed', async () => {
    const org = await h.createOrganization();
    expect(await h.pollNow(org.id)).toMatchObject({ status: 'succeeded', counts: { created: 3 } });
    // One record gone: the next run's deletion pass has work to do.
    h.thirdParty.records.delete('c');
    failing = 'deletion pass';
    await expect(h.pollNow(org.id)).rejects.toThrow('injected: the store did not answer the deletion pass');
    expect(await latestRun(org)).toMatchObject({ status: 'failed', message: 'injected: the store did not answer the deletion pass' });
    expect(await h.items(org.id)).toHaveLength(3);
  });
});
