import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEVELOPMENT_JWT_PRIVATE_KEY, DEVELOPMENT_JWT_PUBLIC_KEY } from './development-keys';
import { jwksOf, keyIdOf, tokenIssuingFrom, tokenVerificationFrom } from './token-keys';
import { configError } from './config-error.test-helper';

const pem = (key: KeyObject): string => key.export({ type: key.type === 'private' ? 'pkcs8' : 'spki', format: 'pem' }) as string;
const base = { JWT_ISSUER: 'music-auth', JWT_AUDIENCE: 'music-sync', JWT_EXPIRES_IN_SECONDS: 3600 };
const production = { ...base, NODE_ENV: 'production' as const };
const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });


describe('token keys', () => {
  it('outside production, with nothing set, uses the development pair (and says so)', () => {
    const issuing = tokenIssuingFrom({ ...base, NODE_ENV: 'development' });
    const verification = tokenVerificationFrom({ ...base, NODE_ENV: 'test' });
    expect(issuing.development).toBe(true);
    expect(verification.development).toBe(true);
    expect([...verification.keys.keys()]).toEqual([issuing.kid]);
  });

  it('production requires the keys', () => {
    expect(configError(() => tokenIssuingFrom(production))).toMatch(/^Invalid configuration: JWT_PRIVATE_KEY: required in production/);
    expect(configError(() => tokenVerificationFrom(production))).toMatch(/^Invalid configuration: JWT_PUBLIC_KEYS: required in production/);
  });

  // Finding: production accepted the .env.example placeholder or `aaaaaaaaaaaaaaaa` as its secret.
  it('production refuses the development keys, placeholders and weak keys', () => {
    expect(configError(() => tokenIssuingFrom({ ...production, JWT_PRIVATE_KEY: DEVELOPMENT_JWT_PRIVATE_KEY }))).toContain('the development key cannot be used in production');
    expect(configError(() => tokenVerificationFrom({ ...production, JWT_PUBLIC_KEYS: DEVELOPMENT_JWT_PUBLIC_KEY }))).toContain('the development key cannot be used in production');
    expect(configError(() => tokenIssuingFrom({ ...production, JWT_PRIVATE_KEY: 'aaaaaaaaaaaaaaaa' }))).toContain('not a PEM private key');
    expect(configError(() => tokenVerificationFrom({ ...production, JWT_PUBLIC_KEYS: 'change-me-to-a-long-random-string' }))).toContain('no PEM public key');
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(configError(() => tokenIssuingFrom({ ...production, JWT_PRIVATE_KEY: pem(weak.privateKey) }))).toContain('1024 bits is too weak');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(configError(() => tokenVerificationFrom({ ...production, JWT_PUBLIC_KEYS: pem(ec.publicKey) }))).toContain('must be an RSA key');
  });

  it('production accepts real keys, inline (with \\n escapes, as .env files write them) or from a file', () => {
    const inline = pem(pair.privateKey).replace(/\n/g, '\\n');
    const issuing = tokenIssuingFrom({ ...production, JWT_PRIVATE_KEY: inline });
    // As `npm run keys` writes them, in case an env-file reader keeps the quotes.
    expect(tokenIssuingFrom({ ...production, JWT_PRIVATE_KEY: `"${inline}"` }).kid).toBe(issuing.kid);
    expect(tokenVerificationFrom({ ...production, JWT_PUBLIC_KEYS: `"${pem(pair.publicKey).trim().replace(/\n/g, '\\n')}"` }).keys.has(issuing.kid)).toBe(true);
    expect(issuing.development).toBe(false);
    expect(issuing.kid).toBe(keyIdOf(pair.publicKey));
    const dir = mkdtempSync(path.join(tmpdir(), 'keys-'));
    const file = path.join(dir, 'public.pem');
    writeFileSync(file, pem(pair.publicKey));
    const verification = tokenVerificationFrom({ ...production, JWT_PUBLIC_KEYS_FILE: file });
    expect([...verification.keys.keys()]).toEqual([issuing.kid]);
    expect(configError(() => tokenVerificationFrom({ ...production, JWT_PUBLIC_KEYS_FILE: path.join(dir, 'missing.pem') }))).toContain('cannot read');
    expect(configError(() => tokenVerificationFrom({ ...production, JWT_PUBLIC_KEYS: pem(pair.publicKey), JWT_PUBLIC_KEYS_FILE: file }))).toContain('not both');
  });

  it('music-auth verifies with its own public key besides JWT_PUBLIC_KEYS; the key set publishes them', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const issuing = tokenIssuingFrom({ ...production, JWT_PRIVATE_KEY: pem(pair.privateKey), JWT_PUBLIC_KEYS: pem(other.publicKey) });
    expect([...issuing.verification.keys.keys()].sort()).toEqual([keyIdOf(pair.publicKey), keyIdOf(other.publicKey)].sort());
    const jwks = jwksOf(issuing.verification);
    expect(jwks.keys).toHaveLength(2);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String), n: expect.any(String), e: 'AQAB' });
    expect(JSON.stringify(jwks)).not.toMatch(/"d"|PRIVATE/);
  });
});
