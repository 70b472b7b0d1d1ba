import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './config';
import { DEVELOPMENT_JWT_PRIVATE_KEY, DEVELOPMENT_JWT_PUBLIC_KEY } from './development-keys';
import type { Logger } from './logger';

/** The settings that say which keys verify access tokens, and what a token must claim. */
export interface TokenVerificationSettings {
  NODE_ENV: 'development' | 'test' | 'production';
  JWT_PUBLIC_KEYS?: string | undefined;
  JWT_PUBLIC_KEYS_FILE?: string | undefined;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
  JWT_EXPIRES_IN_SECONDS: number;
}

/** music-auth's settings: the verification ones plus its signing key. */
export interface TokenSigningSettings extends TokenVerificationSettings {
  JWT_PRIVATE_KEY?: string | undefined;
  JWT_PRIVATE_KEY_FILE?: string | undefined;
}

/** What a guard checks tokens against. */
export interface TokenVerification {
  /** Public keys by key id (`kid`, the RFC 7638 thumbprint of the key). */
  keys: ReadonlyMap<string, KeyObject>;
  issuer: string;
  audience: string;
  /** The longest `exp - iat` accepted. */
  maxLifetimeSeconds: number;
  /** The development key pair is in use (outside production only): worth a warning at start-up. */
  development: boolean;
}

/** What music-auth signs tokens with. */
export interface TokenIssuing {
  kid: string;
  privateKey: KeyObject;
  issuer: string;
  audience: string;
  expiresInSeconds: number;
  development: boolean;
  /** Verification for music-auth's own guarded routes: its own public key plus JWT_PUBLIC_KEYS. */
  verification: TokenVerification;
}

/** RS256 needs RSA keys of at least this many bits (NIST: 2048 until 2030). */
export const MIN_RSA_BITS = 2048;

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g;

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA public key: a key id both sides compute alike. */
export function keyIdOf(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  return createHash('sha256').update(JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n })).digest('base64url');
}

let developmentKid: string | undefined;
/** The development key's id (computed on first use: no work at import time). */
function developmentKeyId(): string {
  developmentKid ??= keyIdOf(createPublicKey(DEVELOPMENT_JWT_PUBLIC_KEY));
  return developmentKid;
}

// Keys in an environment variable often arrive with their newlines written as `\n`.
const pemText = (value: string): string => value.replace(/\\n/g, '\n');

function readSetting(name: string, inline: string | undefined, file: string | undefined): string | undefined {
  if (inline && file) throw new ConfigError(`Invalid configuration: ${name}: set either ${name} or ${name}_FILE, not both`);
  if (!file) return inline === undefined ? undefined : pemText(inline);
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`Invalid configuration: ${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function checkRsa(name: string, key: KeyObject, production: boolean): void {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa') throw new ConfigError(`Invalid configuration: ${name}: must be an RSA key (tokens are RS256), got ${key.asymmetricKeyType ?? 'unknown'}`);
  if (bits < MIN_RSA_BITS) throw new ConfigError(`Invalid configuration: ${name}: an RSA key of ${bits} bits is too weak (at least ${MIN_RSA_BITS})`);
  if (production && keyIdOf(key.type === 'private' ? createPublicKey(key) : key) === developmentKeyId()) {
    throw new ConfigError(`Invalid configuration: ${name}: the development key cannot be used in production`);
  }
}

function parsePublicKeys(text: string, production: boolean): KeyObject[] {
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new ConfigError('Invalid configuration: JWT_PUBLIC_KEYS: no PEM public key found (-----BEGIN PUBLIC KEY-----)');
  return blocks.map((block, i) => {
    let key: KeyObject;
    try {
      key = createPublicKey(block);
    } catch {
      throw new ConfigError(`Invalid configuration: JWT_PUBLIC_KEYS: key ${i + 1} is not a PEM public key`);
    }
    checkRsa('JWT_PUBLIC_KEYS', key, production);
    return key;
  });
}

const verifications = new WeakMap<object, TokenVerification>();
const issuings = new WeakMap<object, TokenIssuing>();

function verificationWith(settings: TokenVerificationSettings, extra: KeyObject[]): TokenVerification {
  const production = settings.NODE_ENV === 'production';
  const text = readSetting('JWT_PUBLIC_KEYS', settings.JWT_PUBLIC_KEYS, settings.JWT_PUBLIC_KEYS_FILE);
  if (text === undefined && production && extra.length === 0) {
    throw new ConfigError('Invalid configuration: JWT_PUBLIC_KEYS: required in production (the public key(s) of music-auth, PEM)');
  }
  const listed = text === undefined ? [] : parsePublicKeys(text, production);
  const all = [...extra, ...listed];
  // Outside production, with nothing configured: the development key, which music-auth signs with by default.
  if (all.length === 0) all.push(createPublicKey(DEVELOPMENT_JWT_PUBLIC_KEY));
  const keys = new Map(all.map((k) => [keyIdOf(k), k]));
  return {
    keys,
    issuer: settings.JWT_ISSUER,
    audience: settings.JWT_AUDIENCE,
    maxLifetimeSeconds: settings.JWT_EXPIRES_IN_SECONDS,
    development: keys.has(developmentKeyId()),
  };
}

/**
 * The keys and claims access tokens are verified against, from an app's config (read once per
 * config object). Production requires JWT_PUBLIC_KEYS and refuses the development key and RSA keys
 * under 2048 bits; elsewhere an unset JWT_PUBLIC_KEYS means the development key. Throws ConfigError.
 */
export function tokenVerificationFrom(settings: TokenVerificationSettings): TokenVerification {
  let found = verifications.get(settings);
  if (!found) {
    found = verificationWith(settings, []);
    verifications.set(settings, found);
  }
  return found;
}

/** tokenVerificationFrom for an app that verifies tokens: warns at start-up while it uses the development public key. */
export function tokenVerificationFor(settings: TokenVerificationSettings, logger: Pick<Logger, 'warn'>): TokenVerification {
  const verification = tokenVerificationFrom(settings);
  if (verification.development) logger.warn('verifying tokens with the development public key: set JWT_PUBLIC_KEYS (production refuses to start without it)');
  return verification;
}

/**
 * music-auth's signing key and claims, from its config (read once per config object). Production
 * requires JWT_PRIVATE_KEY (or _FILE) and refuses the development key and RSA keys under 2048 bits.
 * Throws ConfigError.
 */
export function tokenIssuingFrom(settings: TokenSigningSettings): TokenIssuing {
  let found = issuings.get(settings);
  if (found) return found;
  const production = settings.NODE_ENV === 'production';
  const text = readSetting('JWT_PRIVATE_KEY', settings.JWT_PRIVATE_KEY, settings.JWT_PRIVATE_KEY_FILE);
  if (text === undefined && production) {
    throw new ConfigError('Invalid configuration: JWT_PRIVATE_KEY: required in production (an RSA private key, PEM, 2048 bits or more)');
  }
  let privateKey: KeyObject;
  try {
    // The PEM block alone: a value may arrive wrapped in the quotes of an env file.
    const block = text === undefined ? DEVELOPMENT_JWT_PRIVATE_KEY : (text.match(PEM_BLOCK)?.[0] ?? text);
    privateKey = createPrivateKey(block);
  } catch {
    throw new ConfigError('Invalid configuration: JWT_PRIVATE_KEY: not a PEM private key');
  }
  checkRsa('JWT_PRIVATE_KEY', privateKey, production);
  const publicKey = createPublicKey(privateKey);
  const kid = keyIdOf(publicKey);
  found = {
    kid,
    privateKey,
    issuer: settings.JWT_ISSUER,
    audience: settings.JWT_AUDIENCE,
    expiresInSeconds: settings.JWT_EXPIRES_IN_SECONDS,
    development: kid === developmentKeyId(),
    verification: verificationWith(settings, [publicKey]),
  };
  issuings.set(settings, found);
  return found;
}

/** The public keys as a JSON Web Key Set (served by music-auth at /.well-known/jwks.json). */
export function jwksOf(verification: TokenVerification): { keys: Array<Record<string, string>> } {
  return {
    keys: [...verification.keys].map(([kid, key]) => {
      const jwk = key.export({ format: 'jwk' });
      return { kty: 'RSA', n: String(jwk.n), e: String(jwk.e), kid, alg: 'RS256', use: 'sig' };
    }),
  };
}
