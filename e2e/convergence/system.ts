import type { Express } from 'express';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import request from 'supertest';
import { assignEntryIds, inventoryItemId, newEntryId, organizationInputSchema, type Organization, type OrganizationInput } from '@music/domain';
import { OrganizationRepository, withEntryIds, type DeliveryDoc, type InventoryItemDoc } from '@music/persistence';
import { createOutboundClient, provideFactory, resolve, type Logger, type Token, type OutboundClient, type OutboundRequest, type OutboundResult } from '@music/platform';
import { openQueue, QUEUE_NAMES, type FanoutJob } from '@music/queue';
import { clearPrefix, Gate, openTestRedis, openTestStore, testAccessToken, testLogger, testSecretBox, ThirdPartyStub, uniqueName, type StubRecord, type TestStore } from '@music/testing';
import { createInventoryApp } from '../../apps/music-inventory/src/app';
import { loadInventoryConfig } from '../../apps/music-inventory/src/config';
import { INTEGRATION, integrationContainer } from '../../apps/music-integration/src/container';
import { OrganizationCache } from '../../apps/music-integration/src/engine/organization-cache';
import { loadIntegrationConfig, type IntegrationConfig } from '../../apps/music-integration/src/config';
import { startIntegrationIn, type IntegrationRuntime } from '../../apps/music-integration/src/integration-runtime';
import type { PollRunOutcome } from '../../apps/music-integration/src/polling/poll-run';
import type { Fields } from './model';


// The real system, in one process: the inventory API (supertest), the integration engine with its
// workers on the real store and Redis, its HTTP app for input webhooks, and a stub third party
// (@music/testing's ThirdPartyStub) on a loopback port. One World per test file; one Sequence (a fresh
// organization and a fresh stub) per generated command sequence, so sequences never see each other's items.

/** Engine settings for the test: fast retries, a quick sweeper, and enough attempts that an outage of a few commands never dead-letters. */
export const ENGINE_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  OUTBOUND_ALLOW_LIST: '127.0.0.1',
  OUTBOUND_TIMEOUT_MS: '1000',
  DELIVERY_ATTEMPTS: '50',
  DELIVERY_BACKOFF_BASE_MS: '20',
  DELIVERY_BACKOFF_MAX_MS: '400',
  SWEEP_INTERVAL_MS: '100',
  OUTBOX_GRACE_MS: '100',
  POLL_ATTEMPTS: '1',
  RECONCILE_INTERVAL_MS: '3600000',
  DELETE_GUARD_RATIO: '0.5',
  // A deleted organization's purge passes again soon while work in flight still lands.
  PURGE_RECHECK_MS: '200',
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

/**
 * The delivery path's organization reads, the next one of an organization held until let go. The
 * fan-out job reads the organization beside its item (or beside the item's send lease), so holding
 * that read stretches the moment between a fan-out's start and its send, as a slow store or a busy
 * worker does (apps/music-integration/src/delivery/fan-out-order.integration.spec.ts holds it the
 * same way). Deliver jobs read it too: the command that holds it runs while no retry is pending.
 */
export class HeldOrganizationReads extends OrganizationCache {
  private armed: string | null = null;
  private readonly gate = new Gate();
  /** Reads held since the last `holdNext`. */
  held = 0;

  holdNext(organizationId: string): void {
    this.armed = organizationId;
    this.held = 0;
    this.gate.close();
  }

  /** The held read goes on (and an armed hold that caught nothing is dropped). */
  letGo(): void {
    this.armed = null;
    this.gate.open();
  }

  override async findById(id: string): Promise<Organization | null> {
    const org = await super.findById(id);
    if (this.armed === id) {
      this.armed = null;
      this.held++;
      await this.gate.wait();
    }
    return org;
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

  /** The integration as main.ts starts it, its organization reads holdable (HeldOrganizationReads). */
  private static startRuntime(store: TestStore, redis: Redis, config: IntegrationConfig, logger: Logger, http: OutboundClient): Promise<IntegrationRuntime> {
    const container = integrationContainer({ config, logger, models: store.models, redis, bullConnection: redis, http });
    provideFactory(container, INTEGRATION.organizationCache, (c) => new HeldOrganizationReads(resolve(c, INTEGRATION.organizations)));
    return startIntegrationIn(container);
  }

  /** The running integration's organization reads (the fan-out's and the deliver jobs'). */
  get organizationReads(): HeldOrganizationReads {
    return this.use(INTEGRATION.organizationCache) as HeldOrganizationReads;
  }

  private buildIntegrationApp(): Express {
    return resolve(this.runtime.container, INTEGRATION.app);
  }

  /** One of the running integration's registrations (a use case, a repository, the queues). */
  use<T>(name: Token<T>): T {
    return resolve(this.runtime.container, name);
  }

  /** A graceful restart: workers finish their active jobs, the queues close, then a new runtime (a fresh container and its workers) starts, as a new process would. */
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
    await Promise.all(Object.values(this.use(INTEGRATION.queues)).map((q) => q.close()));
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

  /** Redis restarts with no persistence: every queue, job, lease and lock is gone; the processes reconnect. */
  /** Deletes an organization's write mark (libs/sync-state's `<prefix>:writemark:{orgId}`), as an evicted or lost key would be. */
  async loseWriteMark(organizationId: string): Promise<void> {
    await this.redis.del(`${this.prefix}:writemark:{${organizationId}}`);
  }

  async wipeRedis(): Promise<void> {
    await this.runtime.close();
    await clearPrefix(this.redis, this.prefix);
    await this.replaceRuntime();
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
    const { output, inbound } = this.use(INTEGRATION.queues);
    for (const queue of [output, inbound]) {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      if (Object.values(counts).some((n) => n > 0)) return false;
    }
    return true;
  }

  /** Output jobs waiting or running (not those delayed for a retry). */
  async outputBusy(): Promise<number> {
    const counts = await this.use(INTEGRATION.queues).output.getJobCounts('waiting', 'active', 'prioritized');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  async inboundIdle(): Promise<boolean> {
    const counts = await this.use(INTEGRATION.queues).inbound.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(counts).every((n) => n === 0);
  }

  async queueSummary(): Promise<string> {
    const { output, inbound } = this.use(INTEGRATION.queues);
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


/** The fields our mapping reads from a record (ours or the third party's). */
export function fieldsOf(item: Record<string, unknown>): Fields {
  return { name: String(item['name']), artist: String(item['artist']), album: String(item['album']) };
}

/** How a sequence's organization polls: one entry, or two whose lists are disjoint or overlap; paged or not. */
export interface SequenceShape {
  entries: 'one' | 'disjoint' | 'overlap';
  pagination: 'none' | 'page' | 'offset' | 'cursor';
  /** Incremental polling (unpaged only): `updatedAt` / `updatedSince`, a full snapshot every INCREMENTAL_FULL_EVERY-th run. */
  incremental?: boolean;
}

/** An incremental entry's full snapshot runs every this many runs. */
export const INCREMENTAL_FULL_EVERY = 3;
const INCREMENTAL = { cursorField: 'updatedAt', queryParam: 'updatedSince', fullSnapshotEvery: INCREMENTAL_FULL_EVERY } as const;

/** The ids each entry lists (the third party's named lists): every key is listed by at least one entry. */
export function entryLists(shape: SequenceShape['entries'], keys: readonly string[]): Array<{ name: string; lists: string[] }> {
  switch (shape) {
    case 'one':
      return [{ name: 'E1', lists: [...keys] }];
    case 'disjoint':
      return [
        { name: 'E1', lists: keys.slice(0, 2) },
        { name: 'E2', lists: keys.slice(2) },
      ];
    case 'overlap':
      return [
        { name: 'E1', lists: keys.slice(0, 2) },
        { name: 'E2', lists: keys.slice(1) },
      ];
  }
}

const PAGINATION = {
  none: undefined,
  page: { type: 'page', limit: 2, totalPath: 'total' },
  offset: { type: 'offset', limit: 2, totalPath: 'total' },
  cursor: { type: 'cursor', limit: 2, totalPath: 'total' },
} as const;

export type OutputName = 'create' | 'create2' | 'delete';
const OUTPUT_METHOD: Record<OutputName, 'POST' | 'PUT' | 'DELETE'> = { create: 'POST', create2: 'PUT', delete: 'DELETE' };

/** One generated sequence's slice of the world: its own organization and its own third party. */
export class Sequence {
  /** Deliveries to the third party are failing (an injected outage of every /sync path). */
  down = false;
  /** Local writes go through the inventory app whose enqueues fail (Redis unreachable from it). */
  loseEnqueues = false;

  private constructor(
    readonly world: World,
    readonly stub: ThirdPartyStub,
    public org: Organization,
    readonly shape: SequenceShape,
    /** Model entry name -> polling entry id. */
    readonly entryIds: Map<string, string>,
  ) {}

  /**
   * A two-way organization as music-config creates it: input webhooks, output webhooks for upserts
   * (POST /sync/create) and deletes (DELETE /sync/delete), one or two polling entries on the stub's
   * named lists. Its schedulers are registered like music-config's org-changed event does, which
   * fires a first poll of each entry at once; those (of an empty third party) are waited for.
   */
  static async begin(world: World, shape: SequenceShape, keys: readonly string[]): Promise<Sequence> {
    const stub = await new ThirdPartyStub().start();
    stub.idempotent = true;
    stub.withTotal = shape.pagination !== 'none';
    if (shape.incremental) stub.stampField = INCREMENTAL.cursorField;
    const entries = entryLists(shape.entries, keys);
    for (const e of entries) stub.list(e.name, e.lists);
    const input = organizationInputSchema.parse({
      name: 'Convergence org',
      synchronization: 'two-way',
      webhooks: [
        { type: 'input', url: 'http://127.0.0.1:9/sync', method: 'POST' },
        { type: 'input', url: 'http://127.0.0.1:9/sync', method: 'DELETE' },
        { type: 'output', url: `${stub.baseUrl}/sync/create`, method: 'POST' },
        { type: 'output', url: `${stub.baseUrl}/sync/delete`, method: 'DELETE' },
      ],
      polling: entries.map((e) => ({ endpoint: `${stub.baseUrl}/music/${e.name}`, interval: 1, type: 'hour', ...(PAGINATION[shape.pagination] ? { pagination: PAGINATION[shape.pagination] } : {}), ...(shape.incremental ? { incremental: INCREMENTAL } : {}) })),
      mappings: MAPPINGS,
      transforms: [],
    });
    const org = await world.organizations.create(world.ownerId, withEntryIds(input));
    const entryIds = new Map(entries.map((e, i) => [e.name, org.polling[i]?.id ?? '']));
    await world.use(INTEGRATION.reconcileOrganization).execute(org.id);
    await until(
      async () => {
        const runs = await world.use(INTEGRATION.runs).listForOrganization(org.id, { limit: 20 });
        return runs.filter((r) => r.finishedAt !== null).length >= entries.length && runs.every((r) => r.finishedAt !== null);
      },
      () => 'the first scheduled polls of the new organization',
    );
    return new Sequence(world, stub, org, shape, entryIds);
  }

  /** Removes everything the sequence left behind, so the shared collections stay small. */
  async end(): Promise<void> {
    const { world, org } = this;
    for (const p of org.polling) await world.use(INTEGRATION.schedules).remove(org.id, p.id).catch(() => undefined);
    const models = world.store.models;
    await models.organizations.deleteOne({ _id: org.id });
    await models.inventoryItems.deleteMany({ organizationId: org.id });
    await models.deliveries.deleteMany({ organizationId: org.id });
    await models.syncRuns.deleteMany({ organizationId: org.id });
    await models.inboundMessages.deleteMany({ organizationId: org.id });
    await this.stub.close();
  }

  /**
   * Deletes the organization as music-config's `DELETE /organization/:id` does (marked deleted,
   * then its org-changed reconciliation queues the purge), and waits until nothing of it remains:
   * the organization, its items, deliveries, runs, inbound messages and poll memory.
   */
  async deleteOrganization(): Promise<void> {
    const { world, org } = this;
    if (!(await world.organizations.markDeleted(world.ownerId, org.id))) throw new Error('the organization could not be deleted');
    await world.use(INTEGRATION.reconcileOrganization).execute(org.id);
    await until(
      async () => Object.values(await this.leftOf()).every((n) => n === 0),
      async () => `the purge of the deleted organization (left: ${JSON.stringify(await this.leftOf())})`,
    );
  }

  /** What remains of the organization in the store, by collection. */
  async leftOf(): Promise<Record<string, number>> {
    const models = this.world.store.models;
    const organizationId = this.org.id;
    return {
      organizations: await models.organizations.countDocuments({ _id: organizationId }),
      items: await models.inventoryItems.countDocuments({ organizationId }),
      deliveries: await models.deliveries.countDocuments({ organizationId }),
      runs: await models.syncRuns.countDocuments({ organizationId }),
      inboundMessages: await models.inboundMessages.countDocuments({ organizationId }),
      pollMemory: await models.pollMemory.countDocuments({ organizationId }),
    };
  }

  itemId(externalId: string): string {
    return inventoryItemId(this.org.id, externalId);
  }

  // ---- local writes through the inventory API -------------------------------------------------

  private get inventory(): Express {
    return this.loseEnqueues ? this.world.inventoryAppLosingEnqueues : this.world.inventoryApp;
  }

  async localCreate(externalId: string, fields: Fields): Promise<number> {
    const res = await request(this.inventory).post('/inventory').set('authorization', this.world.auth).set('x-organization-id', this.org.id).send({ externalId, ...fields });
    return res.status;
  }

  async localUpdate(externalId: string, change: Partial<Fields>, mode: 'put' | 'patch'): Promise<number> {
    const req = mode === 'put' ? request(this.inventory).put(`/inventory/${this.itemId(externalId)}`) : request(this.inventory).patch(`/inventory/${this.itemId(externalId)}`);
    const res = await req.set('authorization', this.world.auth).set('x-organization-id', this.org.id).send(change);
    return res.status;
  }

  async localDelete(externalId: string): Promise<number> {
    const res = await request(this.inventory).delete(`/inventory/${this.itemId(externalId)}`).set('authorization', this.world.auth).set('x-organization-id', this.org.id);
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

  // ---- the integration API ----------------------------------------------------------------------

  private integration(method: 'get' | 'post', path: string): request.Test {
    return request(this.world.integrationApp)[method](path).set('authorization', this.world.auth);
  }

  async divergences(): Promise<Array<Record<string, unknown>>> {
    const res = await this.integration('get', `/organization/${this.org.id}/divergences?limit=200`);
    if (res.status !== 200) throw new Error(`divergences answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body.items as Array<Record<string, unknown>>;
  }

  async replay(externalId: string): Promise<number> {
    return (await this.integration('post', `/organization/${this.org.id}/divergences/${externalId}/replay`)).status;
  }

  async acceptRemote(externalId: string): Promise<number> {
    return (await this.integration('post', `/organization/${this.org.id}/divergences/${externalId}/accept-remote`)).status;
  }

  // ---- the third party ------------------------------------------------------------------------

  /** The record the third party holds after a change of its own (its shape: `id`, plus a field we do not map). */
  remoteUpsert(externalId: string, fields: Fields): StubRecord {
    const record: StubRecord = { id: externalId, ...fields, genre: 'Convergence' };
    this.stub.put(record);
    return record;
  }

  remoteDelete(externalId: string): StubRecord | undefined {
    const record = this.stub.records.get(externalId);
    this.stub.records.delete(externalId);
    return record;
  }

  /** The third party calls our input webhook (`POST|DELETE /sync?orgId=`) with a record. */
  async sendWebhook(method: 'POST' | 'DELETE', record: Record<string, unknown>, messageId: string): Promise<{ status: number; duplicate: boolean }> {
    const app = this.world.integrationApp;
    const req = method === 'POST' ? request(app).post('/sync') : request(app).delete('/sync');
    const res = await req.query({ orgId: this.org.id }).set('webhook-id', messageId).send(record);
    return { status: res.status, duplicate: res.body?.duplicate === true };
  }

  goDown(): void {
    this.stub.failures.sync = { count: Infinity, status: 503 };
    this.down = true;
  }

  comeBack(): void {
    this.stub.failures.sync = { count: 0, status: 500 };
    this.down = false;
  }

  /** The next `count` deliveries fail with `status` (then the third party answers normally). */
  flakyDeliveries(count: number, status: number): void {
    this.stub.failures.sync = { count, status };
  }

  /** The path each output webhook's URL points at now (edits move it). */
  private readonly paths = new Map<OutputName, string>([
    ['create', 'create'],
    ['create2', 'create2'],
    ['delete', 'delete'],
  ]);
  private readonly refusingForGood = new Set<string>();

  private pathOf(name: OutputName): string {
    return `/sync/${this.paths.get(name) ?? name}`;
  }

  /** The next delivery to this output webhook is refused with a 400 (the webhook gives up at once). */
  refuseOnce(name: OutputName): void {
    this.stub.failPath(this.pathOf(name), 400, 1);
  }

  /** Every delivery to this output webhook is refused from now on (it is down for good). */
  refuseForGood(name: OutputName): void {
    this.refusingForGood.add(this.pathOf(name));
    this.stub.failPath(this.pathOf(name), 400);
  }

  /** Injected one-off faults cleared (an outage and the webhooks down for good stay). */
  clearFaults(): void {
    if (!this.down) this.stub.failures.sync = { count: 0, status: 500 };
    for (const path of [...this.stub.pathFailures.keys()]) if (!this.refusingForGood.has(path)) this.stub.clearPathFailure(path);
  }

  // ---- configuration (what music-config writes, then its org-changed event) ----------------------

  private async reconfigure(change: (input: OrganizationInput) => OrganizationInput): Promise<void> {
    const o = this.org;
    const input = change({
      name: o.name,
      synchronization: o.synchronization,
      webhooks: o.webhooks.map((w) => ({ id: w.id, type: w.type, url: w.url, method: w.method, ...(w.secret ? { secret: w.secret } : {}) })),
      polling: o.polling.map((p) => ({ ...p })),
      mappings: o.mappings,
      transforms: o.transforms,
    } as unknown as OrganizationInput);
    const parsed = organizationInputSchema.parse(input);
    const replaced = await this.world.organizations.replace(this.world.ownerId, o.id, assignEntryIds(parsed, o, newEntryId));
    if (!replaced) throw new Error('the organization could not be replaced');
    this.org = replaced;
    await this.world.use(INTEGRATION.reconcileOrganization).execute(o.id);
  }

  addOutput(name: OutputName): Promise<void> {
    return this.reconfigure((i) => ({ ...i, webhooks: [...i.webhooks, { type: 'output', url: `${this.stub.baseUrl}${this.pathOf(name)}`, method: OUTPUT_METHOD[name] }] }) as OrganizationInput);
  }

  async removeOutput(name: OutputName): Promise<void> {
    const path = this.pathOf(name);
    await this.reconfigure((i) => ({ ...i, webhooks: i.webhooks.filter((w) => !(w.type === 'output' && w.url.endsWith(path))) }) as OrganizationInput);
    this.refusingForGood.delete(path);
    this.stub.clearPathFailure(path);
  }

  /** The output webhook keeps its id; its URL moves to another path of the third party (and back). */
  async moveOutput(name: OutputName): Promise<void> {
    const from = this.pathOf(name);
    const to = this.paths.get(name) === name ? `${name}-moved` : name;
    await this.reconfigure((i) => ({ ...i, webhooks: i.webhooks.map((w) => (w.type === 'output' && w.url.endsWith(from) ? { ...w, url: `${this.stub.baseUrl}/sync/${to}` } : w)) }) as OrganizationInput);
    this.paths.set(name, to);
  }

  setDirection(mode: 'one-way' | 'two-way'): Promise<void> {
    return this.reconfigure((i) => ({ ...i, synchronization: mode }) as OrganizationInput);
  }

  // ---- the engine -----------------------------------------------------------------------------

  /**
   * One manual poll run of a polling entry, now. A manual run that finds the entry's lease held
   * waits ("Polling", step 1): `busy` is tried again, as the job would be.
   */
  async poll(entry: string): Promise<PollRunOutcome> {
    const pollingId = this.entryIds.get(entry);
    if (!pollingId) throw new Error(`no polling entry ${entry}`);
    const deadline = Date.now() + QUIET_TIMEOUT_MS;
    for (;;) {
      const outcome = await this.world.use(INTEGRATION.pollRun).execute({ version: 1, organizationId: this.org.id, pollingId, trigger: 'manual' }, async () => undefined);
      if (outcome.kind !== 'busy' || Date.now() > deadline) return outcome;
      await sleep(20);
    }
  }

  /** Waits until every accepted input webhook call of the organization is applied (and the inbound queue idle). */
  async inboundSettled(): Promise<void> {
    await until(
      async () => (await this.inboundApplied()) && (await this.world.inboundIdle()),
      () => this.world.queueSummary(),
    );
  }

  /**
   * Waits until every change has gone out: nothing waiting, running or scheduled for retry on the
   * output and inbound queues, and no item with a local change not yet settled. (During an outage
   * deliveries keep retrying: only the inbound queue is waited for.)
   */
  async settled(): Promise<void> {
    if (this.down) {
      // Deliveries keep retrying (delayed jobs); the fan-out jobs (which create them) still run and finish.
      return until(
        async () => (await this.inboundApplied()) && (await this.world.inboundIdle()) && (await this.world.outputBusy()) === 0 && (await this.allItemDocs()).every((d) => d.pendingEvent === null),
        () => this.world.queueSummary(),
      );
    }
    await until(
      async () => (await this.inboundApplied()) && (await this.world.queuesIdle()) && (await this.allItemDocs()).every((d) => d.pendingEvent === null && d.state !== 'pending'),
      async () => `the queues to drain and items to settle (${await this.world.queueSummary()}; items ${JSON.stringify((await this.allItemDocs()).map((d) => ({ externalId: d.externalId, version: d.version, state: d.state, deleted: d.deleted, pendingEvent: d.pendingEvent?.op ?? null })))})`,
    );
  }

  /** Every accepted input webhook call of the organization applied (a call whose job a wiped Redis lost waits for the sweeper). */
  async inboundApplied(): Promise<boolean> {
    return (await this.world.store.models.inboundMessages.countDocuments({ organizationId: this.org.id, appliedAt: null })) === 0;
  }

  async finishedRuns(): Promise<number> {
    return this.world.store.models.syncRuns.countDocuments({ organizationId: this.org.id, finishedAt: { $ne: null } });
  }

  async allItemDocs(): Promise<InventoryItemDoc[]> {
    return this.world.store.models.inventoryItems.find({ organizationId: this.org.id }).lean<InventoryItemDoc[]>();
  }

  async deliveries(): Promise<DeliveryDoc[]> {
    return this.world.store.models.deliveries.find({ organizationId: this.org.id }).lean<DeliveryDoc[]>();
  }
}

