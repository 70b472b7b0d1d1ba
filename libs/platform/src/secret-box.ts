import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError } from './config';
import { DEVELOPMENT_SECRETS_KEYS } from './development-keys';

/** The settings of the keys that seal stored secrets. */
export interface SecretsSettings {
  NODE_ENV: 'development' | 'test' | 'production';
  SECRETS_KEYS?: string | undefined;
  SECRETS_KEY_ID?: string | undefined;
}

/**
 * Seals secrets before they are stored and opens them after they are read: AES-256-GCM with a key
 * from the environment, the key id stored beside each value, so keys can rotate (values sealed with
 * an older key open as long as its id stays in SECRETS_KEYS; new values use the active key).
 */
export interface SecretBox {
  /** `sealed:v1:<keyId>:<iv>:<ciphertext+tag>` (base64url parts). */
  seal(plain: string): string;
  /** The plain secret. A value stored before sealing existed (no `sealed:` prefix) comes back as is. */
  open(stored: string): string;
  /** Whether a stored value is sealed with the active key (false: rewrite it sealed). */
  isCurrent(stored: string): boolean;
  /** The development key is in use (outside production only): worth a warning at start-up. */
  readonly development: boolean;
}

const PREFIX = 'sealed:v1:';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;

function parseKeys(text: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
    const colon = entry.indexOf(':');
    const id = entry.slice(0, colon);
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    if (colon < 1 || !KEY_ID.test(id)) throw new ConfigError('Invalid configuration: SECRETS_KEYS: each entry is keyId:base64key (key ids: letters, digits, _ or -)');
    if (key.length !== 32) throw new ConfigError(`Invalid configuration: SECRETS_KEYS: key ${id} must be 32 bytes of base64 (openssl rand -base64 32)`);
    if (keys.has(id)) throw new ConfigError(`Invalid configuration: SECRETS_KEYS: key id ${id} is listed twice`);
    keys.set(id, key);
  }
  return keys;
}

const boxes = new WeakMap<object, SecretBox>();

/**
 * The secret box of an app's config (built once per config object). Production requires
 * SECRETS_KEYS and refuses the development key; elsewhere an unset SECRETS_KEYS means the
 * development key. Throws ConfigError.
 */
export function secretBoxFrom(settings: SecretsSettings): SecretBox {
  let box = boxes.get(settings);
  if (box) return box;
  const production = settings.NODE_ENV === 'production';
  if (!settings.SECRETS_KEYS && production) {
    throw new ConfigError('Invalid configuration: SECRETS_KEYS: required in production (keyId:base64 of 32 random bytes)');
  }
  const keys = parseKeys(settings.SECRETS_KEYS ?? DEVELOPMENT_SECRETS_KEYS);
  const development = parseKeys(DEVELOPMENT_SECRETS_KEYS);
  const usesDevelopmentKey = [...keys.values()].some((k) => [...development.values()].some((d) => d.equals(k)));
  if (production && usesDevelopmentKey) throw new ConfigError('Invalid configuration: SECRETS_KEYS: the development key cannot be used in production');
  const activeId = settings.SECRETS_KEY_ID ?? [...keys.keys()][0];
  const active = activeId === undefined ? undefined : keys.get(activeId);
  if (!activeId || !active) throw new ConfigError(`Invalid configuration: SECRETS_KEY_ID: ${activeId ?? '(none)'} is not a key id of SECRETS_KEYS`);
  box = createSecretBox(keys, activeId, usesDevelopmentKey);
  boxes.set(settings, box);
  return box;
}

function createSecretBox(keys: ReadonlyMap<string, Buffer>, activeId: string, development: boolean): SecretBox {
  const active = keys.get(activeId) as Buffer;
  return {
    development,
    seal(plain) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', active, iv);
      const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}${activeId}:${iv.toString('base64url')}:${sealed.toString('base64url')}`;
    },
    open(stored) {
      if (!stored.startsWith(PREFIX)) return stored;
      const [id = '', ivText = '', body = ''] = stored.slice(PREFIX.length).split(':');
      const key = keys.get(id);
      // A bug or an operator error (a key id removed while values still use it), never user input.
      if (!key) throw new Error(`a stored secret is sealed with key id "${id}", which SECRETS_KEYS no longer lists`);
      const sealed = Buffer.from(body, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(ivText, 'base64url'));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    },
    isCurrent(stored) {
      return stored.startsWith(`${PREFIX}${activeId}:`);
    },
  };
}
