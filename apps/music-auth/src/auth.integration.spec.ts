import { generateKeyPairSync } from 'node:crypto';
import type { Express } from 'express';
import express from 'express';
import type { Redis } from 'ioredis';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { AppError, authUser, createJwtGuard, DEVELOPMENT_JWT_PRIVATE_KEY, errorMiddleware, provideValue, resolve, tokenVerificationFrom, type RateLimiter } from '@music/platform';
import { clearPrefix, openTestRedis, openTestStore, testLogger, uniqueName, type TestStore } from '@music/testing';
import { Result } from '@sapphire/result';
import { AUTH, authContainer } from './container';
import { loadAuthConfig, type AuthConfig } from './config';

// A key pair of this test's own: tokens are RS256, signed by music-auth, verified with the public key.
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const JWT_PRIVATE_KEY = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const JWT_PUBLIC_KEYS = keys.publicKey.export({ type: 'spki', format: 'pem' }) as string;

describe('music-auth (real store + Redis)', () => {
  let store: TestStore;
  let redis: Redis;
  const prefixes: string[] = [];

  beforeAll(async () => {
    store = await openTestStore('auth');
    redis = openTestRedis();
  });
  afterAll(async () => {
    for (const p of prefixes) await clearPrefix(redis, p);
    await store.close();
    redis.disconnect();
  });

  /** A config with a rate-limit prefix of its own (unless one is given, to share counters). */
  function testConfig(overrides: Record<string, string> = {}): AuthConfig {
    const prefix = overrides['AUTH_RATE_LIMIT_PREFIX'] ?? uniqueName('authrl');
    prefixes.push(prefix);
    return loadAuthConfig({
      NODE_ENV: 'test',
      JWT_PRIVATE_KEY,
      BCRYPT_COST: '4',
      AUTH_RATE_LIMIT_PER_MINUTE: '1000',
      AUTH_EMAIL_RATE_LIMIT_PER_MINUTE: '1000',
      ...overrides,
      AUTH_RATE_LIMIT_PREFIX: prefix,
    });
  }

  const containerWith = (config: AuthConfig) => authContainer({ config, logger: testLogger(), models: store.models, redis, healthChecks: [] });

  function appWith(config: AuthConfig): Express {
    return resolve(containerWith(config), AUTH.app);
  }

  const uniqueEmail = (): string => `${uniqueName('user')}@test.com`;

  describe('POST /auth/sign-up', () => {
    let app: Express;
    beforeAll(() => {
      app = appWith(testConfig());
    });

    it('creates a user and answers 201 without the password or its hash', async () => {
      const email = uniqueEmail();
      const res = await request(app).post('/auth/sign-up').send({ email, password: '12345678' });
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(['createdAt', 'email', 'id']);
      expect(res.body.email).toBe(email);
      expect(res.text).not.toMatch(/\$2[aby]\$/);
      expect(res.text).not.toContain('12345678');
      const stored = await store.models.users.findOne({ email }).lean();
      expect(stored?.passwordHash).toMatch(/^\$2b\$04\$/);
      expect(stored?._id).toBe(res.body.id);
    });

    it('stores the normalized email (lower case, Gmail dots kept, +tag dropped)', async () => {
      const local = uniqueName('First.Last');
      const res = await request(app).post('/auth/sign-up').send({ email: `  ${local}+promo@GoogleMail.com `, password: '12345678' });
      expect(res.status).toBe(201);
      expect(res.body.email).toBe(`${local.toLowerCase()}@gmail.com`);
    });

    it.each([
      ['a bad email', { email: 'not-an-email', password: '12345678' }, ['email']],
      ['a short password', { email: 'short@test.com', password: '1234567' }, ['password']],
      ['a long password', { email: 'long@test.com', password: 'x'.repeat(73) }, ['password']],
      ['a password over 72 bytes', { email: 'bytes@test.com', password: 'é'.repeat(40) }, ['password']],
      ['missing fields', {}, ['email', 'password']],
      ['a non-string password', { email: 'num@test.com', password: 12345678 }, ['password']],
      ['an unknown key', { email: 'extra@test.com', password: '12345678', admin: true }, ['(root)']],
    ])('answers 400 for %s, naming each offending field', async (_what, body, paths) => {
      const res = await request(app).post('/auth/sign-up').send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(paths);
    });

    it('answers 415 for a body that is not JSON (naming the content-type header), and 400 for malformed JSON', async () => {
      const text = await request(app).post('/auth/sign-up').set('content-type', 'text/plain').send('email=a@b.com&password=12345678');
      expect(text.status).toBe(415);
      expect(text.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(text.body.error.message).toContain('content-type: application/json');
      const broken = await request(app).post('/auth/sign-up').set('content-type', 'application/json').send('{"email": ');
      expect(broken.status).toBe(400);
      expect(broken.body).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'Malformed JSON body' } });
    });

    it('answers 409 CONFLICT for an email already registered, in any spelling', async () => {
      const email = uniqueEmail();
      expect((await request(app).post('/auth/sign-up').send({ email, password: '12345678' })).status).toBe(201);
      const again = await request(app).post('/auth/sign-up').send({ email: email.toUpperCase(), password: 'other-password' });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('CONFLICT');
      expect(await store.models.users.countDocuments({ email })).toBe(1);
    });

    it('lets exactly one of two concurrent sign-ups with the same email through', async () => {
      const email = uniqueEmail();
      const results = await Promise.all([1, 2, 3].map(() => request(app).post('/auth/sign-up').send({ email, password: '12345678' })));
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    });
  });

  describe('POST /auth/sign-in', () => {
    let app: Express;
    const email = `signin_${Date.now()}@test.com`;
    const password = 'correct horse battery';

    beforeAll(async () => {
      app = appWith(testConfig());
      expect((await request(app).post('/auth/sign-up').send({ email, password })).status).toBe(201);
    });

    it('returns a Bearer token that the JWT guard accepts', async () => {
      const res = await request(app).post('/auth/sign-in').send({ email: email.toUpperCase(), password });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ token: expect.any(String), expiresIn: 3600, tokenType: 'Bearer' });
      const payload = jwt.verify(res.body.token, JWT_PUBLIC_KEYS, { algorithms: ['RS256'], issuer: 'music-auth', audience: 'music-sync' }) as jwt.JwtPayload;
      expect(payload['email']).toBe(email);

      // The same guard every other service mounts, holding only the public key.
      const guarded = express();
      const verification = tokenVerificationFrom({ NODE_ENV: 'production', JWT_PUBLIC_KEYS, JWT_ISSUER: 'music-auth', JWT_AUDIENCE: 'music-sync', JWT_EXPIRES_IN_SECONDS: 3600 });
      guarded.get('/whoami', createJwtGuard(verification), (req, r) => void r.json(authUser(req)));
      guarded.use(errorMiddleware(testLogger()));
      const me = await request(guarded).get('/whoami').set('authorization', `Bearer ${res.body.token}`);
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ id: payload.sub, email });

      const own = await request(app).get('/auth/me').set('authorization', `Bearer ${res.body.token}`);
      expect(own.body).toEqual({ id: payload.sub, email });
    });

    it('answers a wrong password and an unknown email with identical 401 bodies', async () => {
      const wrongPassword = await request(app).post('/auth/sign-in').send({ email, password: 'wrong password' });
      const unknownEmail = await request(app).post('/auth/sign-in').send({ email: uniqueEmail(), password });
      const notAnEmail = await request(app).post('/auth/sign-in').send({ email: 'nobody', password });
      for (const res of [wrongPassword, unknownEmail, notAnEmail]) {
        expect(res.status).toBe(401);
        expect(res.body).toEqual({ error: { code: 'UNAUTHORIZED', message: 'Invalid email or password' } });
      }
      expect(unknownEmail.text).toBe(wrongPassword.text);
    });

    it('refuses a password that only shares the first 72 bytes with the real one', async () => {
      const longEmail = uniqueEmail();
      const base = 'p'.repeat(72);
      expect((await request(app).post('/auth/sign-up').send({ email: longEmail, password: base })).status).toBe(201);
      expect((await request(app).post('/auth/sign-in').send({ email: longEmail, password: base })).status).toBe(200);
      expect((await request(app).post('/auth/sign-in').send({ email: longEmail, password: `${base}extra` })).status).toBe(401);
    });

    it('answers 400 for a body without the fields', async () => {
      const res = await request(app).post('/auth/sign-in').send({ email });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([{ path: 'password', message: expect.any(String) }]);
    });
  });

  describe('rate limiting', () => {
    it('consults the limiters registered in the container (a test may register its own)', async () => {
      const container = containerWith(testConfig());
      const refuseAll: RateLimiter = { consume: async () => Result.err(new AppError('RATE_LIMITED', 'Too many attempts, retry in 7 s', undefined, 7)) };
      const limits = resolve(container, AUTH.limits);
      provideValue(container, AUTH.limits, { ...limits, signUp: { ...limits.signUp, byIp: refuseAll } });
      const app = resolve(container, AUTH.app);
      const refused = await request(app).post('/auth/sign-up').send({ email: uniqueEmail(), password: 'a long enough password' });
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('7');
      // Only the overridden limiter refuses: sign-in still answers on its own merits.
      expect((await request(app).post('/auth/sign-in').send({ email: uniqueEmail(), password: 'a long enough password' })).status).toBe(401);
    });

    it('limits sign-in attempts per IP with 429 and retry-after', async () => {
      const app = appWith(testConfig({ AUTH_RATE_LIMIT_PER_MINUTE: '3' }));
      for (let i = 0; i < 3; i++) {
        expect((await request(app).post('/auth/sign-in').send({ email: uniqueEmail(), password: 'whatever1' })).status).toBe(401);
      }
      const limited = await request(app).post('/auth/sign-in').send({ email: uniqueEmail(), password: 'whatever1' });
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      // Sign-up has its own per-IP budget.
      expect((await request(app).post('/auth/sign-up').send({ email: uniqueEmail(), password: '12345678' })).status).toBe(201);
    });

    // Loopback proxies are trusted, so X-Forwarded-For stands for distinct client addresses.
    const signIn = (app: Express, ip: string, email: string, password: string) =>
      request(app).post('/auth/sign-in').set('x-forwarded-for', ip).send({ email, password });

    // Finding: 10 wrong passwords from rotating addresses locked the account, right password included.
    it('never lets wrong passwords from other addresses block the right password from the user’s usual address', async () => {
      const app = appWith(testConfig({ SIGN_IN_ACCOUNT_SLOWDOWN_AFTER: '3', SIGN_IN_SLOWDOWN_BASE_MS: '60000' }));
      const email = uniqueEmail();
      const password = 'the real password 123';
      expect((await request(app).post('/auth/sign-up').send({ email, password })).status).toBe(201);
      // The user signs in from home: that address becomes one of the account's usual addresses.
      expect((await signIn(app, '198.51.100.7', email, password)).status).toBe(200);

      // A stranger guesses from 30 rotating addresses: three failures, then the account slows down
      // for new addresses (one attempt per slot, the slot a minute here), so the rest are refused.
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await signIn(app, `203.0.113.${i + 1}`, email, `guess number ${i}`)).status);
      expect(statuses.slice(0, 4)).toEqual([401, 401, 401, 401]);
      expect(statuses.slice(4).every((s) => s === 429)).toBe(true);
      const slowed = await signIn(app, '203.0.113.200', email, password);
      expect(slowed.status).toBe(429);
      expect(slowed.body.error).toMatchObject({ code: 'RATE_LIMITED', limit: { name: 'SIGN_IN_ACCOUNT_SLOWDOWN_AFTER', value: 3 } });
      expect(Number(slowed.headers['retry-after'])).toBeGreaterThan(1);

      // The right password from the usual address is never held back.
      const home = await signIn(app, '198.51.100.7', email, password);
      expect(home.status).toBe(200);
      expect(home.body.token).toEqual(expect.any(String));
    });

    it('limits failures per (account, address) pair: that pair is refused, other addresses and accounts are not', async () => {
      const app = appWith(testConfig({ SIGN_IN_PAIR_MAX_FAILURES: '3' }));
      const email = uniqueEmail();
      const password = 'the real password 123';
      expect((await request(app).post('/auth/sign-up').send({ email, password })).status).toBe(201);
      for (let i = 0; i < 3; i++) expect((await signIn(app, '203.0.113.9', email, 'wrong password')).status).toBe(401);
      const limited = await signIn(app, '203.0.113.9', email, password);
      expect(limited.status).toBe(429);
      expect(limited.body.error).toMatchObject({ code: 'RATE_LIMITED', limit: { name: 'SIGN_IN_PAIR_MAX_FAILURES', value: 3 } });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(1);
      // The same address for another account, and the same account from another address, are unaffected.
      expect((await signIn(app, '203.0.113.9', uniqueEmail(), 'wrong password')).status).toBe(401);
      expect((await signIn(app, '198.51.100.20', email, password)).status).toBe(200);
    });

    it('slows new addresses down per account: one attempt per slot, parallel attempts included', async () => {
      const app = appWith(testConfig({ SIGN_IN_ACCOUNT_SLOWDOWN_AFTER: '2', SIGN_IN_SLOWDOWN_BASE_MS: '60000' }));
      const email = uniqueEmail();
      for (let i = 0; i < 2; i++) expect((await signIn(app, `192.0.2.${i + 1}`, email, 'wrong password')).status).toBe(401);
      const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => signIn(app, `192.0.2.${i + 10}`, email, 'wrong password')));
      expect(burst.filter((r) => r.status === 401)).toHaveLength(1);
      expect(burst.filter((r) => r.status === 429)).toHaveLength(9);
    });

    it('limits sign-ups per email', async () => {
      const app = appWith(testConfig({ AUTH_EMAIL_RATE_LIMIT_PER_MINUTE: '2' }));
      const email = uniqueEmail();
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await request(app).post('/auth/sign-up').send({ email, password: '12345678' })).status);
      expect(statuses).toEqual([201, 409, 429]);
    });

    it('shares the counters between two app instances on the same Redis prefix', async () => {
      const shared = uniqueName('authrl_shared');
      const first = appWith(testConfig({ AUTH_RATE_LIMIT_PER_MINUTE: '4', AUTH_RATE_LIMIT_PREFIX: shared }));
      const second = appWith(testConfig({ AUTH_RATE_LIMIT_PER_MINUTE: '4', AUTH_RATE_LIMIT_PREFIX: shared }));
      const statuses: number[] = [];
      for (const app of [first, second, first, second, first, second]) {
        statuses.push((await request(app).post('/auth/sign-in').send({ email: uniqueEmail(), password: 'whatever1' })).status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    });
  });

  describe('configuration', () => {
    const productionKey = { NODE_ENV: 'production', JWT_PRIVATE_KEY, BCRYPT_COST: '12' };

    it('refuses to start in production without a signing key, with the development key or a placeholder', () => {
      expect(() => loadAuthConfig({ NODE_ENV: 'production' })).toThrow(/JWT_PRIVATE_KEY: required in production/);
      expect(() => loadAuthConfig({ ...productionKey, JWT_PRIVATE_KEY: DEVELOPMENT_JWT_PRIVATE_KEY })).toThrow(/JWT_PRIVATE_KEY: the development key cannot be used in production/);
      expect(() => loadAuthConfig({ ...productionKey, JWT_PRIVATE_KEY: 'change-me-to-a-long-random-string' })).toThrow(/JWT_PRIVATE_KEY: not a PEM private key/);
      expect(loadAuthConfig(productionKey).NODE_ENV).toBe('production');
    });

    it('refuses bcrypt costs below 12 in production', () => {
      expect(() => loadAuthConfig({ ...productionKey, BCRYPT_COST: '10' })).toThrow(/BCRYPT_COST: at least 12 in production/);
      expect(loadAuthConfig({ ...productionKey, BCRYPT_COST: '13' }).BCRYPT_COST).toBe(13);
      expect(loadAuthConfig({ NODE_ENV: 'test', BCRYPT_COST: '4' }).BCRYPT_COST).toBe(4);
    });

    it('defaults bcrypt cost 12, 20 attempts per address a minute, 5 failures per pair and a slow-down after 10 per account', () => {
      const config = loadAuthConfig({});
      expect(config.BCRYPT_COST).toBe(12);
      expect(config.AUTH_RATE_LIMIT_PER_MINUTE).toBe(20);
      expect(config.SIGN_IN_PAIR_MAX_FAILURES).toBe(5);
      expect(config.SIGN_IN_ACCOUNT_SLOWDOWN_AFTER).toBe(10);
      expect(config.PORT).toBe(3001);
      expect(() => loadAuthConfig({ BCRYPT_COST: '3' })).toThrow(/BCRYPT_COST/);
    });

    it('serves the public key set, and a hash made at a lower cost is upgraded at the next sign-in', async () => {
      const app = appWith(testConfig({ BCRYPT_COST: '5' }));
      const jwks = await request(app).get('/.well-known/jwks.json');
      expect(jwks.status).toBe(200);
      expect(jwks.body.keys).toEqual([expect.objectContaining({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String) })]);
      const email = uniqueEmail();
      expect((await request(appWith(testConfig())).post('/auth/sign-up').send({ email, password: '12345678' })).status).toBe(201);
      expect((await store.models.users.findOne({ email }).lean())?.passwordHash).toMatch(/^\$2b\$04\$/);
      expect((await request(app).post('/auth/sign-in').send({ email, password: '12345678' })).status).toBe(200);
      expect((await store.models.users.findOne({ email }).lean())?.passwordHash).toMatch(/^\$2b\$05\$/);
    });
  });
});
