import request from 'supertest';
import { InProcessSystem, type User } from './in-process-system';
import { INTEGRATION } from '../../apps/music-integration/src/container';

// Abuse limits, from the outside: manual syncs per organization (each one polls the endpoints its
// owner configured, so unbounded they would make us a tool to hammer any URL), sign-in guessing
// from rotating addresses (slowed per account, without locking the user out), and records per
// input-webhook call.

describe('abuse limits', () => {
  let system: InProcessSystem;
  let owner: User;
  let stranger: User;

  beforeAll(async () => {
    system = await InProcessSystem.open({
      workers: false,
      env: { MANUAL_SYNC_RATE_LIMIT_PER_MINUTE: '3', SIGN_IN_ACCOUNT_SLOWDOWN_AFTER: '4', SIGN_IN_SLOWDOWN_BASE_MS: '60000', AUTH_RATE_LIMIT_PER_MINUTE: '1000', INBOUND_MAX_RECORDS: '5' },
    });
    owner = await system.user('owner');
    stranger = await system.user('stranger');
  });
  afterAll(async () => system?.close());

  it('limits manual syncs per organization (429 with Retry-After, no run created), counting only its owner', async () => {
    const config = system.apps['music-config'];
    const org = await system.organization(owner);
    const other = await system.organization(owner);
    // A stranger's attempts answer 404 and spend none of the organization's budget.
    for (let i = 0; i < 5; i++) expect((await request(config).post(`/organization/${org.id}/sync`).set('authorization', stranger.auth)).status).toBe(404);
    for (let i = 0; i < 3; i++) expect((await request(config).post(`/organization/${org.id}/sync`).set('authorization', owner.auth)).status).toBe(202);
    const limited = await request(config).post(`/organization/${org.id}/sync`).set('authorization', owner.auth);
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({
      error: { code: 'RATE_LIMITED', message: expect.stringMatching(/^Too many attempts, retry in \d+ s$/), limit: { name: 'MANUAL_SYNC_RATE_LIMIT_PER_MINUTE', value: 3 } },
    });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(await system.store.models.syncRuns.countDocuments({ organizationId: org.id })).toBe(3);
    // Another organization has its own budget.
    expect((await request(config).post(`/organization/${other.id}/sync`).set('authorization', owner.auth)).status).toBe(202);
  });

  it('slows guessing from rotating addresses per account, while the right password from the user’s usual address still works', async () => {
    const auth = system.apps['music-auth'];
    // InProcessSystem.user signs up and signs in from loopback: that is the user's usual address.
    const victim = await system.user('victim', 'the real password 123');
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await request(auth).post('/auth/sign-in').set('x-forwarded-for', `203.0.113.${i + 1}`).send({ email: victim.email, password: `guess number ${i}` });
      statuses.push(res.status);
    }
    // The user's usual address is never held back (before: 10 wrong passwords from anywhere locked
    // the account for everyone, the right password included).
    const home = await request(auth).post('/auth/sign-in').send({ email: victim.email, password: 'the real password 123' });
    expect(home.status).toBe(200);
    // The guesses: four failures, then one attempt per slot (a minute here) from addresses the account never used.
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
    // Even the right password from a new address waits: guessing cannot continue there.
    const elsewhere = await request(auth).post('/auth/sign-in').set('x-forwarded-for', '198.51.100.7').send({ email: victim.email, password: 'the real password 123' });
    expect(elsewhere.status).toBe(429);
    expect(elsewhere.body.error.limit).toEqual({ name: 'SIGN_IN_ACCOUNT_SLOWDOWN_AFTER', value: 4 });
  });

  it('refuses an input-webhook call with more records than INBOUND_MAX_RECORDS, queueing nothing', async () => {
    const org = await system.organization(owner, { webhooks: [{ type: 'input', url: 'http://localhost:3003/sync', method: 'POST' }] });
    const records = Array.from({ length: 6 }, (_, i) => ({ id: `r${i}`, name: 'n', artist: 'a', album: 'b' }));
    const res = await request(system.apps['music-integration']).post(`/sync?orgId=${org.id}`).send(records);
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'At most 5 records per call' } });
    expect(await system.use(INTEGRATION.queues).inbound.getJobCounts('waiting', 'delayed', 'active', 'completed')).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 0 });
    expect((await request(system.apps['music-integration']).post(`/sync?orgId=${org.id}`).send(records.slice(0, 5))).status).toBe(202);
  });
});
