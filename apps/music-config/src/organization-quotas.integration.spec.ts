import type { Express } from 'express';
import request from 'supertest';
import { testAccessToken, uniqueName } from '@music/testing';
import { openConfigTestEnv, type ConfigTestEnv } from './config.test-helper';

// Finding: no per-account quotas (unlimited organizations, 20 polling entries each, up to 100,000
// pages a run): the platform could be used as a request amplifier. Each quota answers 429 with the
// limit named (the setting and its value).

describe('music-config: per-account quotas (real store + Redis)', () => {
  let env: ConfigTestEnv;
  let app: Express;
  const user = (name: string) => `Bearer ${testAccessToken({ id: uniqueName(name), email: `${name}@test.com` })}`;

  const body = (polling: unknown[] = [{ endpoint: 'https://api.example/music', interval: 1, type: 'hour' }]) => ({
    synchronization: 'one-way',
    webhooks: [],
    polling,
    mappings: { externalId: { type: 'string', source: 'id', required: true } },
  });
  const entries = (n: number, extra: Record<string, unknown> = {}) => Array.from({ length: n }, (_, i) => ({ endpoint: `https://api.example/music/${i}`, interval: 1, type: 'hour', ...extra }));

  beforeAll(async () => {
    env = await openConfigTestEnv('config_quota', {
      env: {
        QUOTA_ORGANIZATIONS_PER_USER: '3',
        QUOTA_POLLING_ENTRIES_PER_ORGANIZATION: '2',
        QUOTA_PAGES_PER_RUN: '50',
        QUOTA_MANUAL_SYNCS_PER_USER_PER_HOUR: '4',
        MANUAL_SYNC_RATE_LIMIT_PER_MINUTE: '100',
      },
    });
    ({ app } = env);
  });
  afterAll(() => env.close());

  it('organizations per account: 429 naming QUOTA_ORGANIZATIONS_PER_USER, concurrent creates included; another account is unaffected', async () => {
    const alice = user('alice');
    const statuses = (await Promise.all(Array.from({ length: 6 }, () => request(app).post('/organization').set('authorization', alice).send(body())))).map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
    const refused = await request(app).post('/organization').set('authorization', alice).send(body());
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      error: { code: 'QUOTA_EXCEEDED', message: 'At most 3 organizations per account', limit: { name: 'QUOTA_ORGANIZATIONS_PER_USER', value: 3 } },
    });
    expect((await request(app).get('/organization').set('authorization', alice)).body.organizations).toHaveLength(3);
    expect((await request(app).post('/organization').set('authorization', user('bob')).send(body())).status).toBe(201);
  });

  it('polling entries per organization and pages per run: 429 naming the limit, on create and on change', async () => {
    const carol = user('carol');
    const tooMany = await request(app).post('/organization').set('authorization', carol).send(body(entries(3)));
    expect(tooMany.status).toBe(429);
    expect(tooMany.body.error).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: { name: 'QUOTA_POLLING_ENTRIES_PER_ORGANIZATION', value: 2 } });
    const tooDeep = await request(app).post('/organization').set('authorization', carol).send(body(entries(1, { pagination: { type: 'page', maxPages: 51 } })));
    expect(tooDeep.status).toBe(429);
    expect(tooDeep.body.error).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: { name: 'QUOTA_PAGES_PER_RUN', value: 50 } });

    const created = await request(app).post('/organization').set('authorization', carol).send(body(entries(2, { pagination: { type: 'page', maxPages: 50 } })));
    expect(created.status).toBe(201);
    const grown = await request(app).patch(`/organization/${created.body.id}`).set('authorization', carol).send({ polling: entries(3) });
    expect(grown.status).toBe(429);
    // Other changes go through.
    expect((await request(app).patch(`/organization/${created.body.id}`).set('authorization', carol).send({ name: 'renamed' })).status).toBe(200);
  });

  it('manual syncs per account per hour, across its organizations: 429 naming QUOTA_MANUAL_SYNCS_PER_USER_PER_HOUR', async () => {
    const dave = user('dave');
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push((await request(app).post('/organization').set('authorization', dave).send(body())).body.id as string);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await request(app).post(`/organization/${ids[i % 2]}/sync`).set('authorization', dave)).status);
    expect(statuses).toEqual([202, 202, 202, 202, 429, 429]);
    const refused = await request(app).post(`/organization/${ids[0]}/sync`).set('authorization', dave);
    expect(refused.body.error).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: { name: 'QUOTA_MANUAL_SYNCS_PER_USER_PER_HOUR', value: 4 } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(60);
  });
});
