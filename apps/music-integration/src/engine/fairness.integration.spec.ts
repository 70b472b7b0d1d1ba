import { eventually } from '@music/testing';
import { IntegrationHarness } from '../integration.test-harness';

const fields = (name: string) => ({ name, artist: 'Artist', album: 'Album' });

describe('no noisy neighbours (real store, real Redis, stub third party)', () => {
  let h: IntegrationHarness;
  beforeEach(async () => {
    // Four delivery slots in the worker; an organization may hold two of them.
    h = await new IntegrationHarness().start({ OUTPUT_CONCURRENCY: '4', ORG_MAX_INFLIGHT_DELIVERIES: '2', OUTBOUND_TIMEOUT_MS: '5000' });
  });
  afterEach(async () => h.stop());

  it("delivers another organization's changes while a slow third party's backlog waits, not after all of it", async () => {
    const slow = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/slow`, method: 'POST' }] });
    const other = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/other`, method: 'POST' }] });
    h.thirdParty.pathDelaysMs.set('/sync/slow', 1500);
    const backlog = 16;
    for (let i = 0; i < backlog; i++) await h.createLocal(slow.id, `a${i}`, fields(`A ${i}`));
    // The slow organization's sends are under way (every worker slot could be theirs by now).
    await new Promise((r) => setTimeout(r, 300));

    for (let i = 0; i < 3; i++) await h.createLocal(other.id, `b${i}`, fields(`B ${i}`));
    await eventually(async () => h.thirdParty.deliveries.filter((d) => d.path === '/sync/other' && d.status < 300).length === 3, "the other organization's changes", 20_000);
    const slowDelivered = h.thirdParty.deliveries.filter((d) => d.path === '/sync/slow').length;
    // Without a cap the four slots take the slow backlog in order (four at a time, 1.5 s each) and
    // the other organization waits for all of it; with one, it waits for at most one slow round.
    expect(slowDelivered).toBeLessThanOrEqual(4);

    // The backlog is delivered all the same, each change once.
    await eventually(async () => h.thirdParty.deliveries.filter((d) => d.path === '/sync/slow').length === backlog, 'the slow backlog', 30_000);
    expect(new Set(h.thirdParty.deliveries.map((d) => d.webhookId)).size).toBe(backlog + 3);
  }, 60_000);
});
