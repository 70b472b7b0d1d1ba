import { eventually } from '@music/testing';
import { FAST_RECOVERY, StackWorld } from './stack-world';

// music-integration killed with SIGKILL (no shutdown, no cleanup) in the middle of deliveries and
// in the middle of a poll, the third party slowed down so the kill lands while requests are in
// flight. After a restart BullMQ's stalled-job recovery runs the jobs again: every change reaches
// the third party exactly once in effect (distinct webhook-ids applied = changes; a re-sent
// delivery is recognised by its webhook-id), the poll run finishes with the result it would have
// had, and no item exists twice on either side.

jest.setTimeout(120_000);

const CHANGES = 12;
const FAULT_CALLS = 1000;

describe('a worker killed with SIGKILL mid-delivery and mid-poll', () => {
  let world: StackWorld;
  beforeAll(async () => {
    world = await StackWorld.open({
      env: {
        ...FAST_RECOVERY,
        // A send's lease lasts OUTBOUND_TIMEOUT_MS + 5 s: the killed process's leases expire in 9 s.
        OUTBOUND_TIMEOUT_MS: '4000',
        OUTPUT_CONCURRENCY: '4',
        DELIVERY_BACKOFF_BASE_MS: '200',
        SWEEP_INTERVAL_MS: '1000',
        OUTBOX_GRACE_MS: '2000',
      },
    });
    await world.signIn();
    await world.createOrganization();
  });
  afterAll(async () => world?.close());

  it('mid-delivery: every change lands exactly once in effect, none lost, none twice', async () => {
    // Every delivery is held 2.5 s by the third party, so the kill catches some in flight.
    await world.faults({ target: 'sync', delayMs: 2500, failNext: FAULT_CALLS });
    const ids = Array.from({ length: CHANGES }, (_, i) => `kill-d-${i}`);
    const created = await Promise.all(ids.map((id) => world.createItem(id)));
    expect(created.map((r) => r.status)).toEqual(ids.map(() => 201));
    await eventually(async () => (await world.faultCallsTaken(FAULT_CALLS)) >= 2, 'deliveries in flight at the third party');

    await world.stack.kill('music-integration', 'SIGKILL');
    const appliedAtKill = (await world.received()).applied;
    expect(appliedAtKill).toBeLessThan(CHANGES);
    await world.faults(null);
    await world.stack.start('music-integration');

    const songs = await world.waitAgreed('every change at the third party after the restart');
    expect([...songs.keys()].sort()).toEqual([...ids].sort());
    const received = await world.received();
    const applied = received.deliveries.filter((d) => d.outcome === 'applied');
    // Exactly once in effect: one applied delivery per change, each with its own webhook-id.
    expect(applied).toHaveLength(CHANGES);
    expect(new Set(applied.map((d) => d.webhookId)).size).toBe(CHANGES);
    // The kill did land mid-delivery: requests the third party got but we never saw answered were
    // sent again after the restart, with the same webhook-id, and recognised as duplicates.
    expect(received.duplicates).toBeGreaterThanOrEqual(1);
    const duplicateIds = received.deliveries.filter((d) => d.outcome === 'duplicate').map((d) => d.webhookId);
    for (const id of duplicateIds) expect(applied.map((d) => d.webhookId)).toContain(id);
    expect(await world.deliveries('succeeded')).toHaveLength(CHANGES);
    expect(await world.deliveries('pending')).toHaveLength(0);
    expect(await world.deliveries('failed')).toHaveLength(0);
  });

  it('mid-poll: the run is picked up again and ends as it would have without the kill', async () => {
    const before = (await world.inventory()).length;
    await fetch(`${world.url('music-faker')}/music/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ count: 30 }) });
    // The list the poll reads is held 3 s.
    await world.faults({ target: 'music', delayMs: 3000, failNext: FAULT_CALLS });
    const runId = await world.syncNow();
    await eventually(async () => (await world.run(runId)).status === 'running' && (await world.faultCallsTaken(FAULT_CALLS)) >= 1, 'the poll to be reading the third party');

    await world.stack.kill('music-integration', 'SIGKILL');
    await world.faults(null);
    await world.stack.start('music-integration');

    const run = await eventually(async () => {
      const r = await world.run(runId);
      return r.status === 'succeeded' ? r : undefined;
    }, 'the same run to finish after the restart', 45_000);
    expect(run.counts).toMatchObject({ fetched: before + 30, created: 30, updated: 0, invalid: 0, deleted: 0 });
    const songs = await world.waitAgreed('both sides to agree after the recovered poll');
    expect(songs.size).toBe(before + 30);
    // Nothing was delivered back: the polled items came from the third party.
    expect((await world.received()).applied).toBe(CHANGES);
  });
});
