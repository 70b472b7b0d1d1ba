import express, { type Express } from 'express';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { authUser, createJwtGuard, signAccessToken, type AuthUser } from './auth-guard';
import { errorMiddleware } from './http-app';
import { createLogger } from './logger';

const SECRET = 'unit-test-secret-0123456789';
const user: AuthUser = { id: 'user-1', email: 'user@test.com' };

function appWithGuard(secret = SECRET): Express {
  const app = express();
  app.get('/me', createJwtGuard({ secret }), (req, res) => void res.json(authUser(req)));
  app.use(errorMiddleware(createLogger({ service: 'test', silent: true })));
  return app;
}

async function expect401(authorization: string | undefined, message: string): Promise<void> {
  const req = request(appWithGuard()).get('/me');
  const res = authorization === undefined ? await req : await req.set('authorization', authorization);
  expect(res.status).toBe(401);
  expect(res.body).toEqual({ error: { code: 'UNAUTHORIZED', message } });
  expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
}

describe('signAccessToken', () => {
  it('signs HS256 with sub = user id and the email claim', () => {
    const { token, expiresIn } = signAccessToken(user, { secret: SECRET, expiresInSeconds: 600 });
    expect(expiresIn).toBe(600);
    const decoded = jwt.decode(token, { complete: true });
    expect(decoded?.header.alg).toBe('HS256');
    const payload = decoded?.payload as jwt.JwtPayload;
    expect(payload.sub).toBe('user-1');
    expect(payload['email']).toBe('user@test.com');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(600);
  });
});

describe('createJwtGuard', () => {
  it('accepts a valid token and exposes the caller as req.user', async () => {
    const { token } = signAccessToken(user, { secret: SECRET, expiresInSeconds: 600 });
    const res = await request(appWithGuard()).get('/me').set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(user);
  });

  it('rejects a request without an Authorization header', async () => {
    await expect401(undefined, 'Missing bearer token');
  });

  it('rejects the brief\'s "Beare" typo and other schemes', async () => {
    const { token } = signAccessToken(user, { secret: SECRET, expiresInSeconds: 600 });
    await expect401(`Beare ${token}`, 'Authorization header must be "Bearer <token>"');
    await expect401(`Basic ${token}`, 'Authorization header must be "Bearer <token>"');
  });

  it('rejects a malformed token', async () => {
    await expect401('Bearer not-a-jwt', 'Invalid token');
  });

  it('rejects a token signed with another secret', async () => {
    const { token } = signAccessToken(user, { secret: 'another-secret-0123456789', expiresInSeconds: 600 });
    await expect401(`Bearer ${token}`, 'Invalid token');
  });

  it('rejects an expired token', async () => {
    const past = Math.floor(Date.now() / 1000) - 120;
    const token = jwt.sign({ sub: user.id, email: user.email, iat: past - 60, exp: past }, SECRET, { algorithm: 'HS256' });
    await expect401(`Bearer ${token}`, 'Token expired');
  });

  it('rejects an unsigned token (alg: none)', async () => {
    const token = jwt.sign({ sub: user.id, email: user.email }, null, { algorithm: 'none' });
    await expect401(`Bearer ${token}`, 'Invalid token');
  });

  it('rejects a token signed with another HMAC algorithm', async () => {
    const token = jwt.sign({ sub: user.id, email: user.email }, SECRET, { algorithm: 'HS512' });
    await expect401(`Bearer ${token}`, 'Invalid token');
  });

  it('rejects a correctly signed token without the sub or email claim', async () => {
    const token = jwt.sign({ email: user.email }, SECRET, { algorithm: 'HS256' });
    await expect401(`Bearer ${token}`, 'Invalid token');
  });
});

describe('authUser', () => {
  it('throws when the guard did not run (a programming error)', () => {
    expect(() => authUser({} as express.Request)).toThrow(/without the JWT guard/);
  });
});
