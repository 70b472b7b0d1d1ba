import { randomBytes } from 'node:crypto';
import { DEVELOPMENT_SECRETS_KEYS } from './development-keys';
import { secretBoxFrom } from './secret-box';
import { configError } from './config-error.test-helper';

const key = (): string => randomBytes(32).toString('base64');


describe('secretBoxFrom', () => {
  it('seals with AES-256-GCM under the active key id, and opens what it sealed', () => {
    const box = secretBoxFrom({ NODE_ENV: 'production', SECRETS_KEYS: `k1:${key()}` });
    const sealed = box.seal('whsec_c2VjcmV0');
    expect(sealed).toMatch(/^sealed:v1:k1:[\w-]{16}:[\w-]+$/);
    expect(sealed).not.toContain('c2VjcmV0');
    expect(box.open(sealed)).toBe('whsec_c2VjcmV0');
    // A fresh IV each time: the same secret never seals to the same text.
    expect(box.seal('whsec_c2VjcmV0')).not.toBe(sealed);
    expect(box.isCurrent(sealed)).toBe(true);
  });

  it('opens a value stored before sealing existed as it is (and says it is not current)', () => {
    const box = secretBoxFrom({ NODE_ENV: 'test' });
    expect(box.open('a-plain-legacy-secret')).toBe('a-plain-legacy-secret');
    expect(box.isCurrent('a-plain-legacy-secret')).toBe(false);
  });

  it('rotates: a new active key seals, the old key id still opens its values', () => {
    const k1 = key();
    const before = secretBoxFrom({ NODE_ENV: 'production', SECRETS_KEYS: `k1:${k1}` });
    const old = before.seal('old value');
    const after = secretBoxFrom({ NODE_ENV: 'production', SECRETS_KEYS: `k2:${key()},k1:${k1}` });
    expect(after.open(old)).toBe('old value');
    expect(after.isCurrent(old)).toBe(false);
    expect(after.seal('new value')).toMatch(/^sealed:v1:k2:/);
    const chosen = secretBoxFrom({ NODE_ENV: 'production', SECRETS_KEYS: `k2:${key()},k1:${k1}`, SECRETS_KEY_ID: 'k1' });
    expect(chosen.seal('x')).toMatch(/^sealed:v1:k1:/);
  });

  it('refuses a tampered value and a value whose key id is gone', () => {
    const box = secretBoxFrom({ NODE_ENV: 'production', SECRETS_KEYS: `k1:${key()}` });
    const sealed = box.seal('value');
    const last = sealed.at(-2) === 'A' ? 'B' : 'A';
    expect(() => box.open(`${sealed.slice(0, -2)}${last}${sealed.slice(-1)}`)).toThrow();
    const other = secretBoxFrom({ NODE_ENV: 'production', SECRETS_KEYS: `k9:${key()}` });
    expect(() => other.open(sealed)).toThrow(/key id "k1"/);
  });

  it('production requires SECRETS_KEYS and refuses the development key; bad keys are named', () => {
    expect(configError(() => secretBoxFrom({ NODE_ENV: 'production' }))).toMatch(/SECRETS_KEYS: required in production/);
    expect(configError(() => secretBoxFrom({ NODE_ENV: 'production', SECRETS_KEYS: DEVELOPMENT_SECRETS_KEYS }))).toMatch(/development key cannot be used in production/);
    expect(configError(() => secretBoxFrom({ NODE_ENV: 'production', SECRETS_KEYS: `prod:${DEVELOPMENT_SECRETS_KEYS.split(':')[1]}` }))).toMatch(/development key/);
    expect(configError(() => secretBoxFrom({ NODE_ENV: 'production', SECRETS_KEYS: 'k1:c2hvcnQ=' }))).toMatch(/32 bytes/);
    expect(configError(() => secretBoxFrom({ NODE_ENV: 'production', SECRETS_KEYS: 'no-colon' }))).toMatch(/keyId:base64key/);
    expect(configError(() => secretBoxFrom({ NODE_ENV: 'production', SECRETS_KEYS: `k1:${key()}`, SECRETS_KEY_ID: 'k2' }))).toMatch(/SECRETS_KEY_ID: k2/);
    expect(secretBoxFrom({ NODE_ENV: 'development' }).development).toBe(true);
  });
});
