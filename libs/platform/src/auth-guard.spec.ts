import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import express, { type Express } from 'express';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { authUser, createJwtGuard, signAccessToken, type AuthUser } from './auth-guard';
import { errorMiddleware } from './http-app';
import { createLogger } from './logger';
import { keyIdOf, tokenIssuingFrom, tokenVerificationFrom, type TokenIssuing, type TokenVerification } from './token-keys';

const user: AuthUser = { id: 'user-1', email: 'user@test.com' };
const rsa = (bits = 2048) => generateKeyPairSync('rsa', { modulusLength: bits });
const pem = (key: KeyObject): string => key.export({ type: key.type === 'private' ? 'pkcs8' : 'spki', format: 'pem' }) as string;

const pair = rsa();
const other = rsa();
const settings = { NODE_ENV: 'test' as const, JWT_ISSUER: 'music-auth', JWT_AUDIENCE: 'music-sync', JWT_EXPIRES_IN_SECONDS: 600 };
const issuing: TokenIssuing = tokenIssuingFrom({ ...settings, JWT_PRIVATE_KEY: pem(pair.privateKey) });
const verification: TokenVerification = tokenVerificationFrom({ ...settings, JWT_PUBLIC_KEYS: pem(pair.publicKey) });
const kid = keyIdOf(pair.publicKey);
const now = () => Math.floor(Date.now() / 1000);

function appWithGuard(v: TokenVerification = verification): Express {
  const app = express();
  app.get('/me', createJwtGuard(v), (req, res) => void res.json(authUser(req)));
  app.use(errorMiddleware(createLogger({ service: 'test', silent: true })));
  return app;
}

async function expect401(authorization: string | undefined, message: string, v?: TokenVerification): Promise<void> {
  const req = request(appWithGuard(v)).get('/me');
  const res = authorization === undefined ? await req : await req.set('authorization', authorization);
  expect(res.status).toBe(401);
  expect(res.body).toEqual({ error: { code: 'UNAUTHORIZED', message } });
  expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
}

/** A token signed with `key` carrying exactly `claims` (no defaults added). */
const forged = (claims: object, key: KeyObject | string = pair.privateKey, options: jwt.SignOptions = { algorithm: 'RS256', keyid: kid }) =>
  jwt.sign(claims, key as jwt.Secret, options);
const valid = { sub: user.id, email: user.email, iss: 'music-auth', aud: 'music-sync' };

describe('signAccessToken', () => {
  it('signs RS256 with kid, sub, email, iss, aud, iat and exp', () => {
    const { token, expiresIn } = signAccessToken(user, issuing);
    expect(expiresIn).toBe(600);
    const decoded = jwt.decode(token, { complete: true });
    expect(decoded?.header).toMatchObject({ alg: 'RS256', kid });
    const payload = decoded?.payload as jwt.JwtPayload;
    expect(payload).toMatchObject({ sub: 'user-1', email: 'user@test.com', iss: 'music-auth', aud: 'music-sync' });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(600);
  });
});

describe('createJwtGuard', () => {
  it('accepts a valid token and exposes the caller as req.user', async () => {
    const { token } = signAccessToken(user, issuing);
    const res = await request(appWithGuard()).get('/me').set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(user);
  });

  it('rejects a request without an Authorization header', async () => {
    await expect401(undefined, 'Missing bearer token');
  });

  it('rejects a misspelt "Beare" and other schemes', async () => {
    const { token } = signAccessToken(user, issuing);
    await expect401(`Beare ${token}`, 'Authorization header must be "Bearer <token>"');
    await expect401(`Basic ${token}`, 'Authorization header must be "Bearer <token>"');
  });

  it('rejects a malformed token', async () => {
    await expect401('Bearer not-a-jwt', 'Invalid token');
  });

  it('rejects a token signed with another key, under our kid or its own', async () => {
    await expect401(`Bearer ${forged({ ...valid, exp: now() + 60 }, other.privateKey)}`, 'Invalid token');
    await expect401(`Bearer ${forged({ ...valid, exp: now() + 60 }, other.privateKey, { algorithm: 'RS256', keyid: keyIdOf(other.publicKey) })}`, 'Invalid token');
  });

  it('rejects a token without a kid', async () => {
    await expect401(`Bearer ${forged({ ...valid, exp: now() + 60 }, pair.privateKey, { algorithm: 'RS256' })}`, 'Invalid token');
  });

  it('rejects an expired token', async () => {
    await expect401(`Bearer ${forged({ ...valid, iat: now() - 300, exp: now() - 120 })}`, 'Token expired');
  });

  // Finding: tokens without `exp`, with a 10-year `exp`, or without `iss`/`aud` were accepted.
  it('rejects a token without exp, and one whose lifetime exceeds JWT_EXPIRES_IN_SECONDS', async () => {
    await expect401(`Bearer ${forged(valid)}`, 'Invalid token');
    await expect401(`Bearer ${forged({ ...valid, exp: now() + 10 * 365 * 86400 })}`, 'Invalid token');
    await expect401(`Bearer ${forged({ ...valid, iat: now() + 3600, exp: now() + 3900 })}`, 'Invalid token');
  });

  it('rejects a token without iss or aud, or naming another issuer or audience', async () => {
    const exp = now() + 60;
    await expect401(`Bearer ${forged({ sub: user.id, email: user.email, aud: 'music-sync', exp })}`, 'Invalid token');
    await expect401(`Bearer ${forged({ sub: user.id, email: user.email, iss: 'music-auth', exp })}`, 'Invalid token');
    await expect401(`Bearer ${forged({ ...valid, iss: 'someone-else', exp })}`, 'Invalid token');
    await expect401(`Bearer ${forged({ ...valid, aud: 'another-system', exp })}`, 'Invalid token');
  });

  it('rejects an unsigned token (alg: none) and an HMAC token keyed with the public key (algorithm confusion)', async () => {
    await expect401(`Bearer ${jwt.sign({ ...valid, exp: now() + 60 }, null, { algorithm: 'none', keyid: kid })}`, 'Invalid token');
    await expect401(`Bearer ${forged({ ...valid, exp: now() + 60 }, pem(pair.publicKey), { algorithm: 'HS256', keyid: kid })}`, 'Invalid token');
  });

  it('rejects a correctly signed token without the sub or email claim', async () => {
    await expect401(`Bearer ${forged({ email: user.email, iss: 'music-auth', aud: 'music-sync', exp: now() + 60 })}`, 'Invalid token');
  });

  it('rotates keys by kid: with both public keys listed, tokens of either verify; once the old key is removed, its tokens fail', async () => {
    const next = rsa();
    const nextIssuing = tokenIssuingFrom({ ...settings, JWT_PRIVATE_KEY: pem(next.privateKey) });
    const both = tokenVerificationFrom({ ...settings, JWT_PUBLIC_KEYS: `${pem(pair.publicKey)}\n${pem(next.publicKey)}` });
    const oldToken = signAccessToken(user, issuing).token;
    const newToken = signAccessToken(user, nextIssuing).token;
    for (const token of [oldToken, newToken]) expect((await request(appWithGuard(both)).get('/me').set('authorization', `Bearer ${token}`)).status).toBe(200);
    const onlyNew = tokenVerificationFrom({ ...settings, JWT_PUBLIC_KEYS: pem(next.publicKey) });
    await expect401(`Bearer ${oldToken}`, 'Invalid token', onlyNew);
    expect((await request(appWithGuard(onlyNew)).get('/me').set('authorization', `Bearer ${newToken}`)).status).toBe(200);
  });
});

describe('authUser', () => {
  it('throws when the guard did not run (a programming error)', () => {
    expect(() => authUser({} as express.Request)).toThrow(/without the JWT guard/);
  });
});
