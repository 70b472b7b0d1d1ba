import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import type { Organization } from '@music/domain';
import { signAccessToken, tokenIssuingFrom } from '@music/platform';
import { openInventoryTestEnv, song, type InventoryTestEnv, type TestUser } from './inventory.test-helper';

describe('music-inventory /inventory (real store + Redis)', () => {
  let env: InventoryTestEnv;
  let owner: TestUser;
  let org: Organization;
  let otherOrg: Organization;

  beforeAll(async () => {
    env = await openInventoryTestEnv('inventory_api');
    owner = await env.user();
    org = await env.organization(owner.id);
    otherOrg = await env.organization(owner.id, 'one-way');
  });
  afterAll(async () => {
    await env.close();
  });

  // `null`: send no x-organization-id header.
  const post = (body: unknown, organizationId: string | null = org.id, auth = owner.auth) => {
    const req = request(env.app).post('/inventory').set('authorization', auth);
    return organizationId === null ? req.send(body as object) : req.set('x-organization-id', organizationId).send(body as object);
  };
  const paths = (res: request.Response): string[] => (res.body.error?.details ?? []).map((d: { path: string }) => d.path);

  describe('authentication', () => {
    it('answers 401 without a token, with a token signed by another key, and with a malformed one', async () => {
      const none = await request(env.app).get('/inventory');
      expect(none.status).toBe(401);
      expect(none.body.error.code).toBe('UNAUTHORIZED');

      const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      const forged = signAccessToken(
        { id: owner.id, email: owner.email },
        tokenIssuingFrom({ NODE_ENV: 'test', JWT_PRIVATE_KEY: otherKey, JWT_ISSUER: 'music-auth', JWT_AUDIENCE: 'music-sync', JWT_EXPIRES_IN_SECONDS: 600 }),
      );
      const wrongSecret = await request(env.app).get('/inventory').set('authorization', `Bearer ${forged.token}`);
      expect(wrongSecret.status).toBe(401);

      const garbage = await request(env.app).post('/inventory').set('authorization', 'Bearer not.a.jwt').set('x-organization-id', org.id).send(song('unauth'));
      expect(garbage.status).toBe(401);
      // Nothing was written by the refused request.
      expect(await env.store.models.inventoryItems.countDocuments({ externalId: 'unauth' })).toBe(0);
    });
  });

  describe('create', () => {
    it('creates an item with every mapped field, in the API shape', async () => {
      const res = await post(song('c-1', { duration: 215.5, tags: ['rock', 'live'], label: { name: 'Sub Pop', year: 1991 } }));
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        organizationId: org.id,
        externalId: 'c-1',
        name: 'Song c-1',
        artist: 'Artist',
        album: 'Album',
        duration: 215.5,
        tags: ['rock', 'live'],
        label: { name: 'Sub Pop', year: 1991 },
        sync: { state: 'pending', origin: 'local', version: 1, pending: true, remoteKnown: false },
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      const stored = await env.store.models.inventoryItems.findById(res.body.id).lean();
      expect(stored?.data).toEqual({ name: 'Song c-1', artist: 'Artist', album: 'Album', duration: 215.5, tags: ['rock', 'live'], label: { name: 'Sub Pop', year: 1991 } });
    });

    it('accepts a numeric externalId and stores it as a string', async () => {
      const res = await post(song(4711));
      expect(res.status).toBe(201);
      expect(res.body.externalId).toBe('4711');
    });

    it('answers 409 for an externalId that already exists in the organization, and keeps the first item', async () => {
      expect((await post(song('dup'))).status).toBe(201);
      const again = await post(song('dup', { name: 'Other' }));
      expect(again.status).toBe(409);
      expect(again.body.error).toEqual({ code: 'CONFLICT', message: 'externalId already exists in this organization' });
      const list = await request(env.app).get(`/inventory/organization/${org.id}`).query({ limit: 200 }).set('authorization', owner.auth);
      const dups = list.body.items.filter((i: { externalId: string }) => i.externalId === 'dup');
      expect(dups).toHaveLength(1);
      expect(dups[0].name).toBe('Song dup');
      // The same externalId in another organization is fine.
      expect((await post(song('dup'), otherOrg.id)).status).toBe(201);
    });

    it('refuses a missing x-organization-id header with 400 naming it', async () => {
      const res = await post(song('no-header'), null);
      expect(await env.store.models.inventoryItems.countDocuments({ externalId: 'no-header' })).toBe(0);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(paths(res)).toEqual(['x-organization-id']);
    });

    it('answers 404 for an organization id that does not exist', async () => {
      const res = await post(song('ghost'), 'no-such-org');
      expect(res.status).toBe(404);
    });

    it('refuses wrong field types, unknown fields and missing required fields, naming each path', async () => {
      const wrongType = await post(song('bad-1', { name: 42, duration: 'long', label: { name: 'L', year: 'ninety' } }));
      expect(wrongType.status).toBe(400);
      expect(paths(wrongType).sort()).toEqual(['duration', 'label.year', 'name']);

      const unknown = await post(song('bad-2', { genre: 'grunge' }));
      expect(unknown.status).toBe(400);
      expect(paths(unknown)).toEqual(['genre']);

      const missing = await post({ externalId: 'bad-3', name: 'n' });
      expect(missing.status).toBe(400);
      expect(paths(missing).sort()).toEqual(['album', 'artist']);

      const noExternalId = await post({ name: 'n', artist: 'a', album: 'b' });
      expect(noExternalId.status).toBe(400);
      expect(paths(noExternalId)).toEqual(['externalId']);

      expect(await env.store.models.inventoryItems.countDocuments({ externalId: { $in: ['bad-1', 'bad-2', 'bad-3'] } })).toBe(0);
    });
  });

  describe('read', () => {
    it('gets one item, and 404s for unknown ids and for a non-matching x-organization-id', async () => {
      const created = (await post(song('r-1'))).body;
      const res = await request(env.app).get(`/inventory/${created.id}`).set('authorization', owner.auth);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(created);

      const matching = await request(env.app).get(`/inventory/${created.id}`).set('authorization', owner.auth).set('x-organization-id', org.id);
      expect(matching.status).toBe(200);
      const mismatched = await request(env.app).get(`/inventory/${created.id}`).set('authorization', owner.auth).set('x-organization-id', otherOrg.id);
      expect(mismatched.status).toBe(404);
      expect((await request(env.app).get('/inventory/nope').set('authorization', owner.auth)).status).toBe(404);
    });

    it('validates limit', async () => {
      for (const limit of ['0', '201', 'abc', '2.5']) {
        const res = await request(env.app).get('/inventory').query({ limit }).set('authorization', owner.auth);
        expect(res.status).toBe(400);
        expect(paths(res)).toEqual(['limit']);
      }
      const org404 = await request(env.app).get('/inventory/organization/no-such-org').set('authorization', owner.auth);
      expect(org404.status).toBe(404);
    });
  });

  describe('pagination', () => {
    it('walks every page of one organization and of all organizations without repeats', async () => {
      const user = await env.user();
      const a = await env.organization(user.id);
      const b = await env.organization(user.id, 'one-way');
      for (let i = 0; i < 7; i++) expect((await post(song(`p-${i}`), a.id, user.auth)).status).toBe(201);
      for (let i = 0; i < 4; i++) expect((await post(song(`q-${i}`), b.id, user.auth)).status).toBe(201);

      const walk = async (path: string): Promise<{ ids: string[]; pages: number }> => {
        const ids: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const res: request.Response = await request(env.app)
            .get(path)
            .query({ limit: 3, ...(cursor ? { cursor } : {}) })
            .set('authorization', user.auth);
          expect(res.status).toBe(200);
          expect(res.body.items.length).toBeLessThanOrEqual(3);
          ids.push(...res.body.items.map((i: { id: string }) => i.id));
          cursor = res.body.nextCursor;
          pages++;
        } while (cursor);
        return { ids, pages };
      };

      const all = await walk('/inventory');
      expect(all.ids).toHaveLength(11);
      expect(new Set(all.ids).size).toBe(11);
      expect(all.pages).toBe(4);

      const onlyA = await walk(`/inventory/organization/${a.id}`);
      expect(onlyA.ids).toHaveLength(7);
      expect(new Set(onlyA.ids).size).toBe(7);
      expect(onlyA.pages).toBe(3);

      // Default limit: everything fits on one page.
      const single = await request(env.app).get('/inventory').set('authorization', user.auth);
      expect(single.body.items).toHaveLength(11);
      expect(single.body.nextCursor).toBeNull();
    });
  });

  describe('update', () => {
    it('PUT replaces the data fields (an omitted optional field disappears)', async () => {
      const created = (await post(song('u-put', { duration: 100, tags: ['x'] }))).body;
      const res = await request(env.app)
        .put(`/inventory/${created.id}`)
        .set('authorization', owner.auth)
        .send({ name: 'New', artist: 'New A', album: 'New B', tags: ['y'] });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ externalId: 'u-put', name: 'New', artist: 'New A', album: 'New B', tags: ['y'], sync: { version: 2 } });
      expect(res.body).not.toHaveProperty('duration');
      const stored = await env.store.models.inventoryItems.findById(created.id).lean();
      expect(stored?.data).toEqual({ name: 'New', artist: 'New A', album: 'New B', tags: ['y'] });
    });

    it('PUT refuses a body missing required fields', async () => {
      const created = (await post(song('u-put-bad'))).body;
      const res = await request(env.app).put(`/inventory/${created.id}`).set('authorization', owner.auth).send({ name: 'only' });
      expect(res.status).toBe(400);
      expect(paths(res).sort()).toEqual(['album', 'artist']);
    });

    it('PATCH merges the data fields; null clears an optional one', async () => {
      const created = (await post(song('u-patch', { duration: 100, tags: ['x'] }))).body;
      const res = await request(env.app).patch(`/inventory/${created.id}`).set('authorization', owner.auth).send({ name: 'Patched', duration: null });
      expect(res.status).toBe(200);
      const stored = await env.store.models.inventoryItems.findById(created.id).lean();
      expect(stored?.data).toEqual({ name: 'Patched', artist: 'Artist', album: 'Album', tags: ['x'] });
      expect(res.body.sync.version).toBe(2);

      const badType = await request(env.app).patch(`/inventory/${created.id}`).set('authorization', owner.auth).send({ tags: 'x' });
      expect(badType.status).toBe(400);
      expect(paths(badType)).toEqual(['tags']);
      const unknown = await request(env.app).patch(`/inventory/${created.id}`).set('authorization', owner.auth).send({ mood: 'sad' });
      expect(unknown.status).toBe(400);
      expect(paths(unknown)).toEqual(['mood']);
    });

    it('refuses to change externalId on PUT and PATCH, and accepts it unchanged', async () => {
      const created = (await post(song('immutable'))).body;
      const put = await request(env.app).put(`/inventory/${created.id}`).set('authorization', owner.auth).send(song('changed'));
      expect(put.status).toBe(400);
      expect(paths(put)).toEqual(['externalId']);
      const patch = await request(env.app).patch(`/inventory/${created.id}`).set('authorization', owner.auth).send({ externalId: 'changed' });
      expect(patch.status).toBe(400);
      expect(paths(patch)).toEqual(['externalId']);

      const stored = await env.store.models.inventoryItems.findById(created.id).lean();
      expect(stored).toMatchObject({ externalId: 'immutable', version: 1 });

      const same = await request(env.app).patch(`/inventory/${created.id}`).set('authorization', owner.auth).send({ externalId: 'immutable', name: 'Renamed' });
      expect(same.status).toBe(200);
      expect(same.body.name).toBe('Renamed');
    });
  });

  describe('delete', () => {
    it('deletes with 204; the item is gone from reads, lists and writes', async () => {
      const created = (await post(song('d-1'))).body;
      const res = await request(env.app).delete(`/inventory/${created.id}`).set('authorization', owner.auth);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect((await request(env.app).get(`/inventory/${created.id}`).set('authorization', owner.auth)).status).toBe(404);
      expect((await request(env.app).patch(`/inventory/${created.id}`).set('authorization', owner.auth).send({ name: 'x' })).status).toBe(404);
      expect((await request(env.app).delete(`/inventory/${created.id}`).set('authorization', owner.auth)).status).toBe(404);
      const list = await request(env.app).get('/inventory').query({ limit: 200 }).set('authorization', owner.auth);
      expect(list.body.items.map((i: { id: string }) => i.id)).not.toContain(created.id);
    });
  });
});
