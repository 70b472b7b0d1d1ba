import type { Express } from 'express';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import request from 'supertest';
import { inventoryItemId, organizationInputSchema, type Organization } from '@music/domain';
import { OrganizationRepository, withEntryIds, type DeliveryDoc, type InventoryItemDoc } from '@music/persistence';
import { createOutboundClient, type Logger, type OutboundClient, type OutboundRequest, type OutboundResult } from '@music/platform';
import { openQueue, QUEUE_NAMES, type FanoutJob } from '@music/queue';
import { clearPrefix, openTestRedis, openTestStore, testAccessToken, testLogger, testSecretBox, uniqueName, type TestStore } from '@music/testing';
import { createInventoryApp } from '../../apps/music-inventory/src/app';
import { loadInventoryConfig } from '../../apps/music-inventory/src/config';
import { createIntegrationApp } from '../../apps/music-integration/src/app';
import { loadIntegrationConfig, type IntegrationConfig } from '../../apps/music-integration/src/config';
import { startIntegration, type IntegrationRuntime } from '../../apps/music-integration/src/integration-runtime';
import type { PollRunOutcome } from '../../apps/music-integration/src/poll-run';
import { startFakerServer, type FakerItem, type FakerServer } from '../../apps/music-faker/src/app';
import type { Fields } from './model';

// The real system, in one process: the inventory API (supertest), the integration engine with its
// workers on the real store and Redis, its HTTP app for input webhooks, and the faker as the third
// party on a loopback port. One World per test file; one Sequence (a fresh organization and a fresh
// faker) per generated command sequence, so sequences never see each other's items.

/** Engine settings for the test: fast retries, a quick sweeper, and enough attempts that an outage of a few commands never dead-letters. */
export const ENGINE_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  OUTBOUND_ALLOW_LIST: '127.0.0.1',
  OUTBOUND_TIMEOUT_MS: '1000',
  DELIVERY_ATTEMPTS: '50',
  DELIVERY_BACKOFF_BASE_MS: '20',
  DELIVERY_BACKOFF_MAX_MS: '250',
  SWEEP_INTERVAL_MS: '100',
  OUTBOX_GRACE_MS: '100',
  POLL_ATTEMPTS: '1',
  RECONCILE_INTERVAL_MS: '3600000',
  DELETE_GUARD_RATIO: '0.5',
};

/** The brief's mapping (id/name/artist/album). */
const MAPPINGS = {
  externalId: { type: 'string', source: 'id', required: true },
  name: { type: 'string', source: 'name', required: true },
  artist: { type: 'string', source: 'artist', required: true },
  album: { type: 'string', source: 'album', required: true },
};

const QUIET_TIMEOUT_MS = 20_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every few ms until it is true; throws `what` when the time runs out. */
export async function until(check: () => Promise<boolean>, what: () => string | Promise<string>, timeoutMs = QUIET_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${await what()}`);
    await sleep(5);
  }
}

export type CrashPoint = 'before-send' | 'after-send';

/** A promise to wait on and the function that releases it. */
class Gate {
  private release: (() => void) | null = null;
  private promise: Promise<void> = Promise.resolve();

  close(): void {
    if (this.release) return;
    this.promise = new Promise<void>((resolve) => (this.release = resolve));
  }

  open(): void {
    this.release?.();
    this.release = null;
  }

  wait(): Promise<void> {
    return this.promise;
  }
}

/**
 * The engine's outbound client with the controls the commands need:
 * - a crash in the middle of a delivery: armed, the next non-GET request never returns (before or
 *   after it reached the third party), as if the process had died right there: no attempt
 *   recorded, no settle, the Redis lease kept;
 * - held deliveries: non-GET requests wait before they are sent (the third party is slow);
 * - a held poll response: the next GET is answered by the third party at once (its snapshot is
 *   taken) but the answer reaches the poll only when released (a slow network).
 */
export class ControlledHttp implements OutboundClient {
  private armed: CrashPoint | null = null;
  private readonly deliveries = new Gate();
  private readonly pollResponse = new Gate();
  private holdNextPoll = false;
  hung = 0;
  heldPolls = 0;

  constructor(private readonly inner: OutboundClient) {}

  arm(point: CrashPoint): void {
    this.armed = point;
    this.hung = 0;
  }

  disarm(): void {
    this.armed = null;
  }

  holdDeliveries(): void {
    this.deliveries.close();
  }

  releaseDeliveries(): void {
    this.deliveries.open();
  }

  holdNextPollResponse(): void {
    this.holdNextPoll = true;
    this.heldPolls = 0;
    this.pollResponse.close();
  }

  releasePollResponse(): void {
    this.pollResponse.open();
  }

  async send(req: OutboundRequest): Promise<OutboundResult> {
    if (req.method === 'GET') {
      if (!this.holdNextPoll) return this.inner.send(req);
      this.holdNextPoll = false;
      const result = await this.inner.send(req);
      this.heldPolls++;
      await this.pollResponse.wait();
      return result;
    }
    await this.deliveries.wait();
    const point = this.armed;
    if (!point) return this.inner.send(req);
    this.armed = null;
    if (point === 'after-send') await this.inner.send(req);
    this.hung++;
    return new Promise<never>(() => undefined);
  }
}

/** Shared infrastructure: one store database, one Redis prefix, one engine (restartable), both apps. */
export class World {
  readonly ownerId = 'convergence-owner';
  readonly organizations: OrganizationRepository;
  readonly inventoryApp: Express;
  /** The same inventory API, its enqueue failing (Redis unreachable from it): only the outbox sweeper can deliver its changes. */
  readonly inventoryAppLosingEnqueues: Express;
  private token: { value: string; at: number } | null = null;
  integrationApp: Express;
  restarts = 0;

  private constructor(
    readonly store: TestStore,
    readonly redis: Redis,
    readonly prefix: string,
    readonly config: IntegrationConfig,
    readonly logger: Logger,
    readonly http: ControlledHttp,
    private readonly outputQueue: Queue<FanoutJob>,
    private readonly deadQueue: Queue<FanoutJob>,
    public runtime: IntegrationRuntime,
  ) {
    this.organizations = new OrganizationRepository(store.models, testSecretBox());
    const inventoryConfig = loadInventoryConfig({ NODE_ENV: 'test', QUEUE_PREFIX: prefix });
    this.inventoryApp = createInventoryApp({ config: inventoryConfig, logger, models: store.models, redis, outputQueue, healthChecks: [] });
    this.inventoryAppLosingEnqueues = createInventoryApp({ config: inventoryConfig, logger, models: store.models, redis, outputQueue: deadQueue, healthChecks: [] });
    this.integrationApp = this.buildIntegrationApp();
  }

  /** The owner's bearer token; tokens expire (10 minutes), so a long run signs a fresh one every 5. */
  get auth(): string {
    if (!this.token || Date.now() - this.token.at > 5 * 60_000) this.token = { value: testAccessToken({ id: this.ownerId, email: 'owner@convergence.test' }), at: Date.now() };
    return `Bearer ${this.token.value}`;
  }

  static async open(env: Record<string, string> = {}): Promise<World> {
    const store = await openTestStore('convergence');
    const redis = openTestRedis();
    const prefix = uniqueName('conv');
    const config = loadIntegrationConfig({ ...ENGINE_ENV, QUEUE_PREFIX: prefix, ...env });
    const logger = testLogger('convergence');
    const http = new ControlledHttp(createOutboundClient({ allowList: ['127.0.0.1'], timeoutMs: config.OUTBOUND_TIMEOUT_MS, maxBytes: config.OUTBOUND_MAX_BYTES }));
    const outputQueue = openQueue<FanoutJob>(QUEUE_NAMES.output, { connection: redis, prefix });
    // A producer connection like main.ts makes (fail fast), disconnected: every enqueue fails at once.
    const producer = new Redis(redis.options.port ?? 6379, redis.options.host ?? '127.0.0.1', { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    const deadQueue = openQueue<FanoutJob>(QUEUE_NAMES.output, { connection: producer, prefix });
    deadQueue.on('error', () => undefined);
    await deadQueue.waitUntilReady();
    producer.disconnect();
    const runtime = await World.startRuntime(store, redis, config, logger, http);
    return new World(store, redis, prefix, config, logger, http, outputQueue, deadQueue, runtime);
  }

  private static startRuntime(store: TestStore, redis: Redis, config: IntegrationConfig, logger: Logger, http: OutboundClient): Promise<IntegrationRuntime> {
    return startIntegration({ config, logger, models: store.models, redis, bullConnection: redis, http });
  }

  private buildIntegrationApp(): Express {
    return createIntegrationApp({ config: this.config, logger: this.logger, engine: this.runtime.engine, healthChecks: [] });
  }

  get engine() {
    return this.runtime.engine;
  }

  /** A graceful restart: workers finish their active jobs, the queues close, a new engine starts. */
  async restartGracefully(): Promise<void> {
    await this.runtime.close();
    await this.replaceRuntime();
  }

  /**
   * A crash while a delivery is in flight (the ControlledHttp hung it), then a new process. The old
   * workers are closed without waiting for their jobs; the time that would pass before the job's
   * BullMQ lock and the delivery lease expire is skipped by deleting them (nothing else holds a lock
   * now), and the new workers' stalled-job check then hands the job to them: BullMQ's own recovery.
   */
  async crashAndRecover(): Promise<void> {
    const workers = this.runtime.workers?.workers ?? [];
    await Promise.all(workers.map((w) => w.close(true)));
    await Promise.all(Object.values(this.engine.queues).map((q) => q.close()));
    const activeKey = `${this.prefix}:${QUEUE_NAMES.output}:active`;
    const stranded = await this.redis.lrange(activeKey, 0, -1);
    for (const id of stranded) await this.redis.del(`${this.prefix}:${QUEUE_NAMES.output}:${id}:lock`);
    await this.deleteKeys(`${this.prefix}:lock:*`);
    this.http.disarm();
    await this.replaceRuntime();
    const output = this.runtime.workers?.workers.find((w) => w.name === QUEUE_NAMES.output);
    if (!output) throw new Error('no output worker after restart');
    // The stalled check marks unlocked active jobs on one pass and moves them back to wait on the
    // next; its throttle key (one check per stalledInterval) stands for the time that passes.
    await until(
      async () => {
        const active = await this.redis.lrange(activeKey, 0, -1);
        if (!stranded.some((id) => active.includes(id))) return true;
        await this.redis.del(`${this.prefix}:${QUEUE_NAMES.output}:stalled-check`);
        await output.startStalledCheckTimer();
        await sleep(20);
        return false;
      },
      () => `stalled jobs ${stranded.join(', ')} to be recovered`,
    );
  }

  private async replaceRuntime(): Promise<void> {
    this.runtime = await World.startRuntime(this.store, this.redis, this.config, this.logger, this.http);
    this.integrationApp = this.buildIntegrationApp();
    this.restarts++;
  }

  private async deleteKeys(pattern: string): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await this.redis.del(...keys);
    } while (cursor !== '0');
  }

  /** Nothing waiting, running or scheduled for retry on the queues that carry changes. */
  async queuesIdle(): Promise<boolean> {
    const { output, inbound } = this.engine.queues;
    for (const queue of [output, inbound]) {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      if (Object.values(counts).some((n) => n > 0)) return false;
    }
    return true;
  }

  async inboundIdle(): Promise<boolean> {
    const counts = await this.engine.queues.inbound.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(counts).every((n) => n === 0);
  }

  async queueSummary(): Promise<string> {
    const { output, inbound } = this.engine.queues;
    const o = await output.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
    const i = await inbound.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed');
    return `output ${JSON.stringify(o)} inbound ${JSON.stringify(i)}`;
  }

  async close(): Promise<void> {
    await this.runtime.close();
    await this.outputQueue.close();
    await this.deadQueue.close().catch(() => undefined);
    await clearPrefix(this.redis, this.prefix);
    this.redis.disconnect();
    await this.store.close();
  }
}

/** What the third party holds, as the fields our mapping reads. */
export function fieldsOf(item: FakerItem | Record<string, unknown>): Fields {
  return { name: String(item['name']), artist: String(item['artist']), album: String(item['album']) };
}

/** One generated sequence's slice of the world: its own organization and its own third party. */
export class Sequence {
  /** Deliveries to the faker are failing (an injected outage). */
  down = false;

  private constructor(
    readonly world: World,
    readonly faker: FakerServer,
    readonly org: Organization,
  ) {}

  /**
   * A two-way organization as music-config creates it: input webhooks for POST and DELETE, output
   * webhooks for upserts (POST) and deletes (DELETE) to the faker, a polling entry on the faker.
   * Its scheduler is registered like music-config's org-changed event does, which fires a first
   * poll at once; that poll (of an empty third party) is waited for, so no scheduled poll runs
   * during the sequence (the next one is an hour away).
   */
  static async begin(world: World): Promise<Sequence> {
    const faker = await startFakerServer({ seed: 1 });
    const input = organizationInputSchema.parse({
      name: 'Convergence org',
      synchronization: 'two-way',
      webhooks: [
        { type: 'input', url: 'http://127.0.0.1:9/sync', method: 'POST' },
        { type: 'input', url: 'http://127.0.0.1:9/sync', method: 'DELETE' },
        { type: 'output', url: `${faker.baseUrl}/sync/create`, method: 'POST' },
        { type: 'output', url: `${faker.baseUrl}/sync/delete`, method: 'DELETE' },
      ],
      polling: [{ endpoint: `${faker.baseUrl}/music`, interval: 1, type: 'hour' }],
      mappings: MAPPINGS,
      transforms: [],
    });
    const org = await world.organizations.create(world.ownerId, withEntryIds(input));
    await world.engine.reconcileOrganization(org.id);
    await until(
      async () => (await world.engine.runs.listForOrganization(org.id, { limit: 1 })).some((r) => r.finishedAt !== null),
      () => 'the first scheduled poll of the new organization',
    );
    return new Sequence(world, faker, org);
  }

  /** Removes everything the sequence left behind, so the shared collections stay small. */
  async end(): Promise<void> {
    const { world, org } = this;
    const pollingId = org.polling[0]?.id;
    if (pollingId) await world.engine.schedules.remove(org.id, pollingId).catch(() => undefined);
    const models = world.store.models;
    await models.organizations.deleteOne({ _id: org.id });
    await models.inventoryItems.deleteMany({ organizationId: org.id });
    await models.deliveries.deleteMany({ organizationId: org.id });
    await models.syncRuns.deleteMany({ organizationId: org.id });
    await models.inboundMessages.deleteMany({ organizationId: org.id });
    this.faker.state.clearFaults();
    await this.faker.close();
  }

  itemId(externalId: string): string {
    return inventoryItemId(this.org.id, externalId);
  }

  // ---- local writes through the inventory API -------------------------------------------------

  /** Local writes go through this app: the normal one, or (losing the enqueue) the one whose Redis is gone. */
  loseEnqueues = false;

  private get inventory(): Express {
    return this.loseEnqueues ? this.world.inventoryAppLosingEnqueues : this.world.inventoryApp;
  }

  async localCreate(externalId: string, fields: Fields): Promise<number> {
    const res = await request(this.inventory)
      .post('/inventory')
      .set('authorization', this.world.auth)
      .set('x-organization-id', this.org.id)
      .send({ externalId, ...fields });
    return res.status;
  }

  async localUpdate(externalId: string, change: Partial<Fields>, mode: 'put' | 'patch'): Promise<number> {
    const req = mode === 'put' ? request(this.inventory).put(`/inventory/${this.itemId(externalId)}`) : request(this.inventory).patch(`/inventory/${this.itemId(externalId)}`);
    const res = await req.set('authorization', this.world.auth).set('x-organization-id', this.org.id).send(change);
    return res.status;
  }

  async localDelete(externalId: string): Promise<number> {
    const res = await request(this.inventory)
      .delete(`/inventory/${this.itemId(externalId)}`)
      .set('authorization', this.world.auth)
      .set('x-organization-id', this.org.id);
    return res.status;
  }

  /** Every live item of the organization through the API (all pages). */
  async listLocal(): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    do {
      const res = await request(this.world.inventoryApp)
        .get(`/inventory/organization/${this.org.id}`)
        .query({ limit: 200, ...(cursor ? { cursor } : {}) })
        .set('authorization', this.world.auth);
      if (res.status !== 200) throw new Error(`listing the inventory answered ${res.status}: ${JSON.stringify(res.body)}`);
      items.push(...(res.body.items as Array<Record<string, unknown>>));
      cursor = res.body.nextCursor as string | null;
    } while (cursor);
    return items;
  }

  // ---- the third party ------------------------------------------------------------------------

  /** A change made at the third party itself; returns the record as its webhook would carry it. */
  remoteUpsert(externalId: string, fields: Fields): FakerItem {
    this.faker.state.upsert({ id: externalId, ...fields, genre: 'Convergence' });
    const item = this.faker.state.get(externalId);
    if (!item) throw new Error('faker lost an upsert');
    return item;
  }

  remoteDelete(externalId: string): FakerItem | undefined {
    return this.faker.state.remove(externalId);
  }

  /** The third party calls our input webhook (`POST|DELETE /sync?orgId=`) with a record. */
  async sendWebhook(method: 'POST' | 'DELETE', record: Record<string, unknown>, messageId: string): Promise<{ status: number; duplicate: boolean }> {
    const app = this.world.integrationApp;
    const req = method === 'POST' ? request(app).post('/sync') : request(app).delete('/sync');
    const res = await req.query({ orgId: this.org.id }).set('webhook-id', messageId).send(record);
    return { status: res.status, duplicate: res.body?.duplicate === true };
  }

  goDown(): void {
    this.faker.state.setFaults({ target: 'sync', remaining: null, status: 503, delayMs: 0, retryAfterSeconds: null });
    this.down = true;
  }

  comeBack(): void {
    this.faker.state.clearFaults();
    this.down = false;
  }

  /** The next `count` deliveries fail with `status` (then the third party answers normally). */
  flakyDeliveries(count: number, status: number): void {
    this.faker.state.setFaults({ target: 'sync', remaining: count, status, delayMs: 0, retryAfterSeconds: null });
  }

  /** The next delivery times out (the third party answers a 504, too late, without applying it). */
  slowDelivery(): void {
    this.faker.state.setFaults({ target: 'sync', remaining: 1, status: 504, delayMs: this.world.config.OUTBOUND_TIMEOUT_MS + 200, retryAfterSeconds: null });
  }

  failNextPoll(): void {
    this.faker.state.setFaults({ target: 'music', remaining: 1, status: 503, delayMs: 0, retryAfterSeconds: null });
  }

  // ---- the engine -----------------------------------------------------------------------------

  /** One poll of the organization's polling entry, run now (what the scheduler's job does). */
  poll(): Promise<PollRunOutcome> {
    const pollingId = this.org.polling[0]?.id;
    if (!pollingId) throw new Error('organization without polling entry');
    return this.world.engine.pollRun.execute({ version: 1, organizationId: this.org.id, pollingId, trigger: 'manual' }, async () => undefined);
  }

  /** Waits until the inbound queue has applied every accepted webhook. */
  async inboundSettled(): Promise<void> {
    await until(() => this.world.inboundIdle(), () => this.world.queueSummary());
  }

  /**
   * Waits until every change has gone out: nothing waiting, running or scheduled for retry on the
   * output and inbound queues, and no item of the sequence with a local change not yet delivered.
   * (During an outage deliveries keep retrying: only the inbound queue is waited for.)
   */
  async settled(keys: readonly string[]): Promise<void> {
    if (this.down) return this.inboundSettled();
    await until(
      async () => (await this.world.queuesIdle()) && (await this.itemDocs(keys)).every((d) => d.pendingEvent === null && d.state === 'synced'),
      async () => `the queues to drain and items to settle (${await this.world.queueSummary()}; items ${JSON.stringify((await this.itemDocs(keys)).map((d) => ({ externalId: d.externalId, version: d.version, state: d.state, pendingEvent: d.pendingEvent?.op ?? null })))})`,
    );
  }

  /**
   * The stored documents (live items and unsettled tombstones) of these externalIds: reads by _id
   * only. A settled tombstone (kept for fencing until TOMBSTONE_RETENTION_MS) is no item: left out.
   */
  async itemDocs(keys: readonly string[]): Promise<InventoryItemDoc[]> {
    const docs = await this.world.store.models.inventoryItems.find({ _id: { $in: keys.map((k) => this.itemId(k)) } }).lean<InventoryItemDoc[]>();
    return docs.filter((d) => !(d.deleted && d.state === 'synced'));
  }

  async allItemDocs(): Promise<InventoryItemDoc[]> {
    return this.world.store.models.inventoryItems.find({ organizationId: this.org.id }).lean<InventoryItemDoc[]>();
  }

  async deliveries(): Promise<DeliveryDoc[]> {
    return this.world.store.models.deliveries.find({ organizationId: this.org.id }).lean<DeliveryDoc[]>();
  }
}
