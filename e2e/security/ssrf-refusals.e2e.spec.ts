import request from 'supertest';
import { eventually } from '@music/testing';
import { InProcessSystem, type User } from './in-process-system';

// The SSRF guard as operators see it: with the production setting (OUTBOUND_ALLOW_LIST empty) an
// organization whose polling endpoint or output webhook points at a private, loopback or
// link-local address gets its poll run failed and its delivery dead-lettered at once (no retries),
// each saying only "blocked by the outbound policy" on the record the API shows (where the name
// resolved, and which rule refused it, is in the operators' log); nothing reaches the address.

describe('SSRF refusals are recorded on the sync run and the delivery', () => {
  let system: InProcessSystem;
  let owner: User;

  beforeAll(async () => {
    system = await InProcessSystem.open({ env: { OUTBOUND_ALLOW_LIST: '', DELIVERY_ATTEMPTS: '5', DELIVERY_BACKOFF_BASE_MS: '50' } });
    owner = await system.user('ssrf');
  });
  afterAll(async () => system?.close());

  it.each([
    ['a loopback third party (the faker on 127.0.0.1)', (faker: string) => `${faker}/music`, (faker: string) => `${faker}/sync/create`],
    ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data/', () => 'http://169.254.169.254/latest/api/token'],
    ['localhost by name', (faker: string) => faker.replace('127.0.0.1', 'localhost') + '/music', (faker: string) => faker.replace('127.0.0.1', 'localhost') + '/sync/create'],
    ['a unique-local IPv6 address', () => 'http://[fd00::1]/music', () => 'http://[fd00::1]/hook'],
    ['the metadata address in IPv4-compatible IPv6 form', () => 'http://[::169.254.169.254]/latest/meta-data/', () => 'http://[::169.254.169.254]/hook'],
  ])('%s: the poll run fails and the delivery is dead-lettered after one attempt, each saying why', async (_what, pollUrl, hookUrl) => {
    const faker = system.faker.baseUrl;
    const deliveriesBefore = system.faker.state.deliveryCounts.total;
    const org = await system.organization(owner, {
      webhooks: [{ type: 'output', url: hookUrl(faker), method: 'POST' }],
      polling: [{ endpoint: pollUrl(faker), interval: 1, type: 'day' }],
    });
    const auth = owner.auth;

    const sync = await request(system.apps['music-config']).post(`/organization/${org.id}/sync`).set('authorization', auth);
    expect(sync.status).toBe(202);
    const runId = sync.body.runs[0].id as string;
    const run = await eventually(async () => {
      const res = await request(system.apps['music-integration']).get(`/organization/${org.id}/sync-runs/${runId}`).set('authorization', auth);
      return res.body.status === 'failed' ? res.body : undefined;
    }, 'the refused poll run');
    expect(run.message).toBe('blocked: blocked by the outbound policy');
    expect(run.counts).toMatchObject({ fetched: 0, created: 0 });

    const item = await request(system.apps['music-inventory']).post('/inventory').set('authorization', auth).set('x-organization-id', org.id).send({ externalId: 'e1', name: 'N', artist: 'A', album: 'B' });
    expect(item.status).toBe(201);
    const failed = await eventually(async () => {
      const res = await request(system.apps['music-integration']).get(`/organization/${org.id}/deliveries?status=failed`).set('authorization', auth);
      return res.body.items?.[0];
    }, 'the refused delivery');
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, lastError: 'blocked: blocked by the outbound policy' });
    // Tenants learn nothing of the network: no resolved address, no rule.
    expect(JSON.stringify([run, failed])).not.toMatch(/is not allowed|127\.0\.0\.1\(|::1\(|a9fe|private IP|link-local/);
    expect(failed.lastAttempts).toHaveLength(1);
    // Not retried: a refused address does not fix itself.
    await system.drainOutput();
    const again = await request(system.apps['music-integration']).get(`/organization/${org.id}/deliveries/${failed.id}`).set('authorization', auth);
    expect(again.body.attempts).toBe(1);
    // The (loopback) third party saw neither the poll nor the delivery.
    expect(system.faker.state.deliveryCounts.total).toBe(deliveriesBefore);
  });
});
