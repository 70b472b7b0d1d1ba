import { randomBytes } from 'node:crypto';
import type { Express } from 'express';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { resolve, type Token } from '@music/platform';
import { openQueue, QUEUE_NAMES, type FanoutJob, type OrgChangedJob, type PollJob, type PurgeOrganizationJob } from '@music/queue';
import { clearPrefix, eventually, openTestRedis, openTestStore, testLogger, uniqueName, type TestStore } from '@music/testing';
import { createAuthApp } from '../../apps/music-auth/src/app';
import { loadAuthConfig } from '../../apps/music-auth/src/config';
import { createConfigApp } from '../../apps/music-config/src/app';
import { loadConfigServiceSettings } from '../../apps/music-config/src/config';
import { createInventoryApp } from '../../apps/music-inventory/src/app';
import { loadInventoryConfig } from '../../apps/music-inventory/src/config';
import { INTEGRATION } from '../../apps/music-integration/src/container';
import { loadIntegrationConfig } from '../../apps/music-integration/src/config';
import { startIntegration, type IntegrationRuntime } from '../../apps/music-integration/src/integration-runtime';
import { createFakerApp, FakerState, loadFakerConfig, startFakerServer, type FakerServer } from '../../apps/music-faker/src/app';
import { EXAMPLE_MAPPINGS } from '@music/domain';

// The five apps built in-process by their own factories (create<X>App(deps)), on one test
// database and one BullMQ prefix on the real store and Redis, with an in-process faker on a
// loopback port as the third party. What the security tests attack.

export const APP_NAMES = ['music-auth', 'music-config', 'music-inventory', 'music-integration', 'music-faker'] as const;
export type AppName = (typeof APP_NAMES)[number];

export interface SystemOptions {
  /** Extra settings for every app (e.g. higher rate limits for fuzzing). */
  env?: Record<string, string>;
  /** Start the integration workers (polls, deliveries, inbound webhooks). */
  workers?: boolean;
}

export interface User {
  id: string;
  email: string;
  token: string;
  auth: string;
}


export class InProcessSystem {
  readonly apps = {} as Record<AppName, Express>;
  readonly prefix = uniqueName('sec');
  store!: TestStore;
  redis!: Redis;
  faker!: FakerServer;
  integration!: IntegrationRuntime;
  queues!: { orgEvents: Queue<OrgChangedJob>; polling: Queue<PollJob>; output: Queue<FanoutJob>; maintenance: Queue<PurgeOrganizationJob> };

  static async open(options: SystemOptions = {}): Promise<InProcessSystem> {
    const system = new InProcessSystem();
    await system.start(options);
    return system;
  }

  private async start(options: SystemOptions): Promise<void> {
    this.store = await openTestStore('security');
    this.redis = openTestRedis();
    this.faker = await startFakerServer({ seed: 11 });
    const env = {
      NODE_ENV: 'test',
      QUEUE_PREFIX: this.prefix,
      OUTBOUND_ALLOW_LIST: '127.0.0.1',
      OUTBOUND_TIMEOUT_MS: '3000',
      BCRYPT_COST: '4',
      AUTH_RATE_LIMIT_PREFIX: `${this.prefix}:rate-limit`,
      DELIVERY_BACKOFF_BASE_MS: '100',
      DELIVERY_ATTEMPTS: '3',
      POLL_ATTEMPTS: '1',
      SWEEP_INTERVAL_MS: '500',
      OUTBOX_GRACE_MS: '1000',
      RUN_WORKERS: options.workers === false ? 'false' : 'true',
      ...options.env,
    };
    const logger = testLogger();
    const { models } = this.store;
    const settings = { connection: this.redis, prefix: this.prefix };
    this.queues = {
      orgEvents: openQueue<OrgChangedJob>(QUEUE_NAMES.orgEvents, settings),
      polling: openQueue<PollJob>(QUEUE_NAMES.polling, settings),
      output: openQueue<FanoutJob>(QUEUE_NAMES.output, settings),
      maintenance: openQueue<PurgeOrganizationJob>(QUEUE_NAMES.maintenance, settings),
    };
    this.apps['music-auth'] = createAuthApp({ config: loadAuthConfig(env), logger, models, redis: this.redis, healthChecks: [] });
    this.apps['music-config'] = createConfigApp({ config: loadConfigServiceSettings(env), logger, models, redis: this.redis, healthChecks: [], queues: this.queues });
    this.apps['music-inventory'] = createInventoryApp({ config: loadInventoryConfig(env), logger, models, redis: this.redis, outputQueue: this.queues.output, healthChecks: [] });
    const integrationConfig = loadIntegrationConfig(env);
    this.integration = await startIntegration({ config: integrationConfig, logger, models, redis: this.redis, bullConnection: this.redis });
    this.apps['music-integration'] = resolve(this.integration.container, INTEGRATION.app);
    this.apps['music-faker'] = createFakerApp({ config: loadFakerConfig(env), logger, state: new FakerState({ seed: 3 }) });
  }

  /** One of the running integration's registrations (a repository, a use case, the queues). */
  use<T>(name: Token<T>): T {
    return resolve(this.integration.container, name);
  }

  async close(): Promise<void> {
    await this.integration?.close();
    await Promise.all(Object.values(this.queues ?? {}).map((q) => q.close()));
    if (this.redis) {
      await clearPrefix(this.redis, this.prefix);
      this.redis.disconnect();
    }
    await this.faker?.close();
    await this.store?.close();
  }

  /** Signs up and signs in through music-auth, as a client would. */
  async user(name: string, password = 'correct horse battery staple'): Promise<User> {
    const email = `${name}.${randomBytes(4).toString('hex')}@tenants.test`;
    const auth = this.apps['music-auth'];
    const signUp = await request(auth).post('/auth/sign-up').send({ email, password });
    if (signUp.status !== 201) throw new Error(`sign-up failed: ${signUp.status} ${JSON.stringify(signUp.body)}`);
    const signIn = await request(auth).post('/auth/sign-in').send({ email, password });
    const token = signIn.body.token as string;
    return { id: signUp.body.id as string, email, token, auth: `Bearer ${token}` };
  }

  /** An organization of `user`, created through music-config, polling the faker and delivering to it. */
  async organization(user: User, overrides: Record<string, unknown> = {}): Promise<{ id: string } & Record<string, unknown>> {
    const body = {
      name: `Org of ${user.email}`,
      synchronization: 'two-way',
      webhooks: [{ type: 'output', url: `${this.faker.baseUrl}/sync/create`, method: 'POST' }],
      polling: [{ endpoint: `${this.faker.baseUrl}/music`, interval: 1, type: 'day' }],
      mappings: EXAMPLE_MAPPINGS,
      transforms: [],
      ...overrides,
    };
    const res = await request(this.apps['music-config']).post('/organization').set('authorization', user.auth).send(body);
    if (res.status !== 201) throw new Error(`organization not created: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { id: string };
  }

  /** Waits until the output queue has nothing waiting, delayed or active. */
  async drainOutput(timeoutMs = 15000): Promise<void> {
    const queue = resolve(this.integration.container, INTEGRATION.queues).output;
    await eventually(async () => Object.values(await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).every((n) => n === 0), 'the output queue to drain', timeoutMs);
  }
}
