import { generateKeyPairSync, randomBytes } from 'node:crypto';

// Prints fresh production keys as .env lines (PEM newlines written as \n, which the apps read back):
//   npm run keys >> .env
// JWT_PRIVATE_KEY belongs to music-auth only; JWT_PUBLIC_KEYS and SECRETS_KEYS to every app.
// To rotate the token key: add the new public key to JWT_PUBLIC_KEYS (both, one after the other)
// on every app, then give music-auth the new private key, then drop the old public key once the
// tokens it signed have expired (JWT_EXPIRES_IN_SECONDS). To rotate the secrets key: put a new
// `id:key` first in SECRETS_KEYS and keep the old entry after it.

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 3072 });
const oneLine = (pem: string): string => pem.trim().replace(/\n/g, '\\n');
const keyId = new Date().toISOString().slice(0, 10).replace(/-/g, '');

process.stdout.write(
  [
    `JWT_PRIVATE_KEY="${oneLine(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string)}"`,
    `JWT_PUBLIC_KEYS="${oneLine(publicKey.export({ type: 'spki', format: 'pem' }) as string)}"`,
    `SECRETS_KEYS=k${keyId}:${randomBytes(32).toString('base64')}`,
    '',
  ].join('\n'),
);
