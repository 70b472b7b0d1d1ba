import { eventually } from '@music/testing';
import type { CommandStartedEvent } from 'mongodb';
import { IntegrationHarness } from '../integration.test-harness';

const fields = (name: string) => ({ name, artist: 'Local Artist', album: 'Local Album' });

/** Store commands the integration worker sends, by `<command> <collection>`, counted by the driver's command monitoring. */
function countCommands(h: IntegrationHarness): { counts: Map<string, number>; total: () => number; reset: () => void } {
  const counts = new Map<string, number>();
  const ignored = new Set(['hello', 'ismaster', 'isMaster', 'ping', 'endSessions', 'buildInfo', 'getMore', 'killCursors', 'createIndexes', 'listIndexes']);
  h.store.connection.getClient().on('commandStarted', (e: CommandStartedEvent) => {
    if (ignored.has(e.commandName)) return;
    const collection = (e.command as Record<string, unknown>)[e.commandName];
    const key = `${e.commandName} ${typeof collection === 'string' ? collection : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  return {
    counts,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    reset: () => counts.clear(),
  };
}

describe('what a delivered change costs the store (real store, real Redis, stub third party)', () => {
  let h: IntegrationHarness;
  beforeEach(async () => {
    // The sweeper's periodic reads are not a change's cost: out of the way for the test's few seconds.
    h = await new IntegrationHarness().start({ SWEEP_INTERVAL_MS: '600000' }, { monitorCommands: true });
  });
  afterEach(async () => h.stop());

  it('delivers a local change with one output webhook in at most 4 store commands (fan-out, attempt and settlement)', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    // The first change warms the organization's cached copy; the next ones are the steady state.
    await h.createLocal(org.id, 'warm', fields('Warm'));
    await eventually(async () => (await h.item(org.id, 'warm'))?.state === 'synced', 'the first change to settle');
    await h.drainOutput();

    const changes = 5;
    const items = [];
    for (let i = 0; i < changes; i++) items.push(await h.createLocal(org.id, `c${i}`, fields(`Song ${i}`), false));
    const store = countCommands(h);
    const started = Date.now();
    for (const item of items) await h.enqueueFanout(item);
    // Waited for without reading the store (the stub's record and the queue), so only the worker's commands count.
    await eventually(async () => h.thirdParty.deliveries.filter((d) => d.status < 300).length === changes + 1, 'every delivery');
    await h.drainOutput();
    const seconds = (Date.now() - started) / 1000;
    // Whether the organization is paused is read at most once a second per process, not per change.
    const pauseReads = store.counts.get('find sync_controls') ?? 0;
    expect(pauseReads).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
    const worker = store.total() - pauseReads;
    const byCommand = Object.fromEntries(store.counts);
    expect((await h.items(org.id)).every((d) => d.state === 'synced' && d.remoteKnown)).toBe(true);

    expect(h.thirdParty.deliveries.filter((d) => d.status < 300)).toHaveLength(changes + 1);
    // Every change recorded as a delivery that succeeded, with its attempt.
    const listed = await h.deliveries.listForOrganization(org.id, { limit: 20 });
    expect(listed.filter((d) => d.status === 'succeeded' && d.attempts === 1 && d.lastAttempts.length === 1)).toHaveLength(changes + 1);
    expect({ perChange: worker / changes, byCommand }).toEqual({ perChange: worker / changes <= 4 ? worker / changes : '<= 4', byCommand });
  });

  it("uses an output webhook's new URL for the very next delivery after an edit", async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/old`, method: 'POST' }] });
    await h.createLocal(org.id, 'before', fields('Before'));
    await eventually(async () => h.thirdParty.deliveries.some((d) => d.path === '/sync/old' && d.status < 300), 'the delivery to the old URL');
    await h.drainOutput();

    // The edit as the configuration API makes it (same webhook id); its change event is not consumed yet.
    const webhook = org.webhooks[0];
    if (!webhook) throw new Error('no webhook');
    const edited = await h.organizations.replace(h.ownerId, org.id, { ...org, webhooks: [{ ...webhook, url: `${h.thirdParty.baseUrl}/sync/new` }] });
    expect(edited?.revision).toBe(org.revision + 1);
    await h.createLocal(org.id, 'after', fields('After'));
    await eventually(async () => (await h.item(org.id, 'after'))?.state === 'synced', 'the change after the edit to settle');
    expect(h.thirdParty.deliveries.filter((d) => d.status < 300).map((d) => d.path)).toEqual(['/sync/old', '/sync/new']);
  });
});

