import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret } from '@music/platform';
import { eventually } from '@music/testing';
import { IntegrationHarness } from '../integration.test-harness';

// What each organization's outbound calls carry and are held to: polling credentials as headers
// (never in the URL, runs or logs), both signatures during a secret rotation, the pages-per-run
// and outbound-calls quotas, and the outbound policy's one-line refusal.

const song = (i: number) => ({ id: `s${i}`, name: `Song ${i}`, artist: 'A', album: 'B' });
const fields = { name: 'Mine', artist: 'Local Artist', album: 'Local Album' };

describe('outbound calls per organization (real store, real Redis, stub third party)', () => {
  let h: IntegrationHarness;
  afterEach(async () => h.stop());

  it.each([
    ['bearer', { type: 'bearer', token: 'bearer-token-0123456789' }, 'authorization', 'Bearer bearer-token-0123456789'],
    ['API-key header', { type: 'header', name: 'X-Api-Key', value: 'key-0123456789' }, 'x-api-key', 'key-0123456789'],
    ['basic', { type: 'basic', username: 'me', password: 'pa55word' }, 'authorization', `Basic ${Buffer.from('me:pa55word').toString('base64')}`],
  ])('a poll presents %s credentials as a header; the run shows none of them', async (_what, auth, header, value) => {
    h = await new IntegrationHarness().start();
    h.thirdParty.requiredHeader = { name: header, value };
    h.thirdParty.put(song(1), song(2));
    const org = await h.createOrganization({ polling: [{ endpoint: `${h.thirdParty.baseUrl}/music?api_key=in-url-k3y`, interval: 1, type: 'hour', auth }] });
    const run = await h.pollNow(org.id);
    expect(run).toMatchObject({ kind: 'done', status: 'succeeded', counts: { fetched: 2, created: 2 } });
    expect(h.thirdParty.listRequests[0]?.headers[header]).toBe(value);
    const stored = await h.store.models.syncRuns.findById((run as { runId: string }).runId).lean();
    expect(stored?.endpoint).toBe(`${h.thirdParty.baseUrl}/music?api_key=***`);
    expect(JSON.stringify(stored)).not.toMatch(/in-url-k3y|bearer-token|key-0123456789|pa55word/);
  });

  it('a poll without the credentials the endpoint needs fails, naming the status only', async () => {
    h = await new IntegrationHarness().start();
    h.thirdParty.requiredHeader = { name: 'authorization', value: 'Bearer right' };
    const org = await h.createOrganization({ polling: [{ endpoint: `${h.thirdParty.baseUrl}/music?token=t0ken`, interval: 1, type: 'hour', auth: { type: 'bearer', token: 'wrong' } }] });
    const run = await h.pollNow(org.id);
    expect(run).toMatchObject({ kind: 'done', status: 'failed' });
    const stored = await h.store.models.syncRuns.findById((run as { runId: string }).runId).lean();
    expect(stored?.message).toBe(`GET ${h.thirdParty.baseUrl}/music?token=*** answered 401`);
  });

  it('signs deliveries with both secrets during a rotation’s overlap, so a receiver holding either verifies them', async () => {
    h = await new IntegrationHarness().start();
    const previous = generateWebhookSecret();
    const current = generateWebhookSecret();
    const org = await h.createOrganization({
      webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST', secret: current, previousSecret: previous, previousSecretExpiresAt: new Date(Date.now() + 60_000) }],
    });
    await h.createLocal(org.id, 'local-1', fields);
    const delivery = await eventually(async () => h.thirdParty.deliveries[0], 'the delivery');
    expect(delivery.signature?.split(' ')).toHaveLength(2);
    for (const secret of [previous, current]) {
      expect(() => new Webhook(secret).verify(delivery.raw, { 'webhook-id': delivery.webhookId ?? '', 'webhook-timestamp': delivery.timestamp ?? '', 'webhook-signature': delivery.signature ?? '' })).not.toThrow();
    }
  });

  it('stops a run at QUOTA_PAGES_PER_RUN pages, whatever the entry’s maxPages (nothing deleted)', async () => {
    h = await new IntegrationHarness().start({ QUOTA_PAGES_PER_RUN: '2' });
    h.thirdParty.put(...Array.from({ length: 10 }, (_, i) => song(i)));
    const org = await h.createOrganization({ polling: [{ endpoint: `${h.thirdParty.baseUrl}/music`, interval: 1, type: 'hour', pagination: { type: 'page', limit: 2, maxPages: 1000 } }] });
    const run = await h.pollNow(org.id);
    expect(run).toMatchObject({ kind: 'done', status: 'partial', counts: { fetched: 4 } });
    expect(h.thirdParty.listRequests).toHaveLength(2);
  });

  it('holds each account to QUOTA_OUTBOUND_CALLS_PER_DESTINATION_PER_MINUTE calls to one host, across its organizations', async () => {
    h = await new IntegrationHarness().start({ QUOTA_OUTBOUND_CALLS_PER_DESTINATION_PER_MINUTE: '3' });
    h.thirdParty.put(...Array.from({ length: 10 }, (_, i) => song(i)));
    const paged = { endpoint: `${h.thirdParty.baseUrl}/music`, interval: 1, type: 'hour', pagination: { type: 'page', limit: 2 } };
    const first = await h.createOrganization({ polling: [paged] });
    const second = await h.createOrganization({ polling: [paged] });
    const run = await h.pollNow(first.id);
    // Three pages fetched, the fourth refused before it was sent: a transient failure, retried later.
    expect(run).toMatchObject({ kind: 'retry', message: expect.stringContaining('QUOTA_OUTBOUND_CALLS_PER_DESTINATION_PER_MINUTE') });
    expect(h.thirdParty.listRequests).toHaveLength(3);
    const stored = await h.store.models.syncRuns.findById((run as { runId: string }).runId).lean();
    expect(stored).toMatchObject({ status: 'partial', pages: 3 });
    // The same owner's other organization shares the budget.
    expect(await h.pollNow(second.id)).toMatchObject({ kind: 'retry' });
    expect(h.thirdParty.listRequests).toHaveLength(3);
  });
});
