import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Connection } from 'mongoose';
import { Redis } from 'ioredis';
import { connectMongo, createLogger, secretBoxFrom, signAccessToken, tokenIssuingFrom, type Logger, type SecretBox } from '@music/platform';
import { createModels, ensureIndexes, type Models } from '@music/persistence';

/** Where the test store and Redis are (set by scripts/test.sh; see jest-setup.ts). */
export function testUrls(): { mongoUrl: string; redisUrl: string } {
  return {
    mongoUrl: process.env['TEST_MONGO_URL'] ?? 'mongodb://127.0.0.1:27018/',
    redisUrl: process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  };
}

/** A name no other test uses: a database name or a BullMQ prefix. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** A logger that prints nothing unless TEST_LOG is set. */
export function testLogger(service = 'test'): Logger {
  return createLogger({ service, level: process.env['TEST_LOG'] ?? 'error', silent: !process.env['TEST_LOG'], format: 'pretty' });
}

export interface TestStore {
  connection: Connection;
  models: Models;
  dbName: string;
  /** Drops the database and closes the connection. */
  close: () => Promise<void>;
}

/** A connection to a database of its own on the real test store, with every index built. */
export async function openTestStore(prefix = 'test', options: { monitorCommands?: boolean } = {}): Promise<TestStore> {
  const dbName = uniqueName(prefix);
  const connection = await connectMongo({ url: testUrls().mongoUrl, dbName, logger: testLogger(), ...(options.monitorCommands ? { monitorCommands: true } : {}) });
  const models = createModels(connection);
  await ensureIndexes(models);
  return {
    connection,
    models,
    dbName,
    close: async () => {
      await connection.dropDatabase().catch(() => undefined);
      await connection.close();
    },
  };
}

/** A Redis client for tests (BullMQ-compatible: no retry limit per request). */
export function openTestRedis(): Redis {
  return new Redis(testUrls().redisUrl, { maxRetriesPerRequest: null });
}

/** Deletes every key under a BullMQ prefix (what a test's queues left behind). */
export async function clearPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** The base URL of a server listening on an ephemeral loopback port. */
export function baseUrlOf(server: Server): string {
  const address = server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

/** Polls `check` until it returns a truthy value or the time runs out (then throws with `what`). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 10000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * A bearer token for `user`, signed with the development key pair: what every app verifies with
 * outside production when JWT_PUBLIC_KEYS is not set, as tests run them.
 */
export function testAccessToken(user: { id: string; email: string }, expiresInSeconds = 600): string {
  // At most the apps' default JWT_EXPIRES_IN_SECONDS (an hour), the longest lifetime they accept.
  const issuing = tokenIssuingFrom({ NODE_ENV: 'test', JWT_ISSUER: 'music-auth', JWT_AUDIENCE: 'music-sync', JWT_EXPIRES_IN_SECONDS: Math.min(expiresInSeconds, 3600) });
  return signAccessToken(user, issuing).token;
}

/** The development secret box (what apps use outside production when SECRETS_KEYS is not set). */
export function testSecretBox(): SecretBox {
  return secretBoxFrom({ NODE_ENV: 'test' });
}

let productionKeys: { JWT_PRIVATE_KEY: string; JWT_PUBLIC_KEYS: string; SECRETS_KEYS: string } | undefined;

/**
 * Keys production accepts (a fresh RSA-2048 pair and a secrets key, one set per test process), for
 * tests that run the apps with NODE_ENV=production: JWT_PRIVATE_KEY for music-auth, JWT_PUBLIC_KEYS
 * and SECRETS_KEYS for the others.
 */
export function testProductionKeys(): { JWT_PRIVATE_KEY: string; JWT_PUBLIC_KEYS: string; SECRETS_KEYS: string } {
  if (!productionKeys) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    productionKeys = {
      JWT_PRIVATE_KEY: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      JWT_PUBLIC_KEYS: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string,
      SECRETS_KEYS: `test:${randomBytes(32).toString('base64')}`,
    };
  }
  return productionKeys;
}
