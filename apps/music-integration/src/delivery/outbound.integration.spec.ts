import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { eventually, type StubDelivery } from '@music/testing';
import { IntegrationHarness } from '../integration.test-harness';
import { INTEGRATION } from '../container';

const SECRET = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
const fields = (name: string) => ({ name, artist: 'Local Artist', album: 'Local Album' });

describe('outbound deliveries (real store, real Redis, stub third party)', () => {
  let h: IntegrationHarness;
  beforeEach(async () => {
    h = await new IntegrationHarness().start();
  });
  afterEach(async () => h.stop());

  it('delivers a local create once, signed, reverse-mapped; the next poll returns it with no duplicate, no write and no second delivery', async () => {
    const org = await h.createOrganization({
      webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST', secret: SECRET }],
    });
    const item = await h.createLocal(org.id, 'local-1', fields('Mine'));
    await eventually(async () => h.thirdParty.deliveries.length === 1, 'the delivery');
    await h.drainOutput();

    const [delivery] = h.thirdParty.deliveries;
    expect(delivery?.method).toBe('POST');
    expect(delivery?.body).toEqual({ id: 'local-1', name: 'Mine', artist: 'Local Artist', album: 'Local Album' });
    expect(delivery?.webhookId).toBe(`${item.pendingEvent?.id}_${org.webhooks[0]?.id}`);
    const stored = await eventually(async () => {
      const [doc] = await h.items(org.id);
      return doc && doc.state === 'synced' ? doc : undefined;
    }, 'the item to settle');
    expect(stored).toMatchObject({ remoteKnown: true, pendingEvent: null, version: 1, awaiting: [] });

    const run = await h.pollNow(org.id);
    expect(run).toMatchObject({ counts: { fetched: 1, created: 0, updated: 0, unchanged: 1 } });
    const [again] = await h.items(org.id);
    expect(again?.updatedAt.getTime()).toBe(stored.updatedAt.getTime());
    await h.drainOutput();
    expect(h.thirdParty.deliveries).toHaveLength(1);
  });

  it('signs deliveries with Standard Webhooks headers the receiver can verify', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/signed`, method: 'POST', secret: SECRET }] });
    await h.createLocal(org.id, 'signed-1', fields('Signed'));
    await eventually(async () => h.thirdParty.deliveries.length === 1, 'the signed delivery');
    const { headers, raw } = h.thirdParty.deliveries[0] as StubDelivery;
    expect(headers['content-type']).toBe('application/json');
    expect(() => new Webhook(SECRET).verify(raw, headers as Record<string, string>)).not.toThrow();
    expect(() => new Webhook(SECRET).verify(raw.replace('Signed', 'Forged'), headers as Record<string, string>)).toThrow();
  });

  it('delivers updates and deletes in order, and removes the tombstone once the DELETE landed', async () => {
    const org = await h.createOrganization();
    await h.createLocal(org.id, 'x', fields('v1'));
    await h.updateLocal(org.id, 'x', fields('v2'));
    await h.deleteLocal(org.id, 'x');

    // Settled: a tombstone fenced at the acknowledgement (kept until TOMBSTONE_RETENTION_MS), nothing awaited.
    await eventually(async () => {
      const doc = await h.item(org.id, 'x');
      return doc?.deleted && doc.state === 'synced';
    }, 'the DELETE to be acknowledged');
    expect(await h.items(org.id)).toHaveLength(0);
    await h.drainOutput();
    // Whatever was superseded, the third party ends where we are: without the item.
    expect(h.thirdParty.records.has('x')).toBe(false);
    const methods = h.thirdParty.deliveries.filter((d) => d.status < 300).map((d) => d.method);
    expect(methods[methods.length - 1]).toBe('DELETE');
  });

  it('retries transient failures with backoff and delivers once the third party recovers', async () => {
    const org = await h.createOrganization();
    h.thirdParty.failures.sync = { count: 2, status: 503 };
    await h.createLocal(org.id, 'r1', fields('Retry me'));
    await eventually(async () => h.thirdParty.records.has('r1'), 'the delivery after two failures');
    await h.drainOutput();
    expect(h.thirdParty.deliveries.map((d) => d.status)).toEqual([503, 503, 200]);
    expect(new Set(h.thirdParty.deliveries.map((d) => d.webhookId)).size).toBe(1);
    const list = await request(h.app).get(`/organization/${org.id}/deliveries`).set('authorization', `Bearer ${h.token()}`);
    expect(list.body.items[0]).toMatchObject({ status: 'succeeded', attempts: 3 });
  });

  it('fails a 4xx at once, lists it as failed, and replays it with the same webhook-id', async () => {
    const org = await h.createOrganization();
    h.thirdParty.failures.sync = { count: 1, status: 422 };
    await h.createLocal(org.id, 'f1', fields('Refused'));
    const auth = `Bearer ${h.token()}`;
    const failed = await eventually(async () => {
      const res = await request(h.app).get(`/organization/${org.id}/deliveries?status=failed`).set('authorization', auth);
      return res.body.items?.length === 1 ? res.body.items[0] : undefined;
    }, 'the failed delivery');
    expect(failed).toMatchObject({ attempts: 1, lastError: 'HTTP 422' });
    expect(h.thirdParty.deliveries).toHaveLength(1);

    const replay = await request(h.app).post(`/organization/${org.id}/deliveries/${failed.id}/replay`).set('authorization', auth);
    expect(replay.status).toBe(202);
    await eventually(async () => h.thirdParty.records.has('f1'), 'the replayed delivery');
    expect(h.thirdParty.deliveries.map((d) => d.webhookId)).toEqual([failed.id, failed.id]);

    const stranger = await request(h.app).post(`/organization/${org.id}/deliveries/${failed.id}/replay`).set('authorization', `Bearer ${h.token('intruder')}`);
    expect(stranger.status).toBe(404);
  });

  it('dead-letters a delivery when retries run out', async () => {
    await h.stop();
    h = await new IntegrationHarness().start({ DELIVERY_ATTEMPTS: '3' });
    const org = await h.createOrganization();
    h.thirdParty.failures.sync = { count: 100, status: 500 };
    await h.createLocal(org.id, 'dead', fields('Never'));
    await eventually(async () => (await h.deliveries.listForOrganization(org.id, { status: 'failed', limit: 5 })).length === 1, 'the dead letter');
    expect(h.thirdParty.deliveries).toHaveLength(3);
  });

  it('re-enqueues a change whose process died between the write and the enqueue; it arrives exactly once', async () => {
    const org = await h.createOrganization();
    // The write happened (with its outbox event); the enqueue never did.
    await h.createLocal(org.id, 'lost-1', fields('Survivor'), false);
    await eventually(async () => h.thirdParty.records.has('lost-1'), 'the sweeper to deliver the lost change', 15000);
    await h.drainOutput();
    await new Promise((r) => setTimeout(r, 1000)); // a few more sweeps must not send it again
    expect(h.thirdParty.deliveries).toHaveLength(1);
  });

  it('never delivers for one-way organizations', async () => {
    const org = await h.createOrganization({ synchronization: 'one-way' });
    const created = await h.createLocal(org.id, 'o1', fields('Quiet'));
    expect(created).toMatchObject({ state: 'synced', pendingEvent: null, origin: 'local' });
    await h.use(INTEGRATION.sweepLostWork).execute(new Date(Date.now() + 60_000));
    await h.drainOutput();
    expect(h.thirdParty.deliveries).toHaveLength(0);
  });

  it('a local change not yet delivered wins over a poll that still has the old remote state', async () => {
    const org = await h.createOrganization();
    h.thirdParty.put({ id: 'c1', name: 'Remote', artist: 'A', album: 'B' });
    await h.pollNow(org.id);
    const [item] = await h.items(org.id);
    if (!item) throw new Error('no item');
    // The third party is down: the local edit stays undelivered while a poll runs.
    h.thirdParty.failures.sync = { count: 2, status: 503 };
    await h.updateLocal(org.id, 'c1', { name: 'Local edit', artist: 'A', album: 'B' });
    const run = await h.pollNow(org.id);
    expect(run).toMatchObject({ counts: { conflicts: 1, updated: 0 } });
    expect((await h.items(org.id))[0]?.data['name']).toBe('Local edit');
    await eventually(async () => h.thirdParty.records.get('c1')?.['name'] === 'Local edit', 'the local edit to reach the third party');
  });

  it('two integration processes deliver each change exactly once', async () => {
    await h.startRuntime();
    const org = await h.createOrganization();
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => h.createLocal(org.id, `p${i}`, fields(`Song ${i}`))));
    await eventually(async () => h.thirdParty.records.size === 20, 'all 20 deliveries');
    await h.drainOutput();
    const ids = h.thirdParty.deliveries.map((d) => d.webhookId);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
    expect(created).toHaveLength(20);
  });
});
