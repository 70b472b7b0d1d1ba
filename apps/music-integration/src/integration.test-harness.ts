import type { Redis } from 'ioredis';
import type { Express } from 'express';
import type { Delivery, InventoryItem, Organization, OrganizationInput, OrganizationSettings, WebhookCredentials } from '@music/domain';
import { inventoryItemId, organizationInputSchema } from '@music/domain';
import { InventoryRepository, OrganizationRepository, SyncRunRepository, withEntryIds, type InventoryItemDoc, type Models, type PollMemoryRepository } from '@music/persistence';
import { addJob, jobSettingsFrom, JOBS } from '@music/queue';
import type { DependencyContainer } from 'tsyringe';
import { createOutboundClient, createRateLimiter, RedisLocks, resolve, secretBoxFrom, type Token } from '@music/platform';
import { createSyncState, RemoteChanges, type SyncState } from '@music/sync-state';
import { clearPrefix, eventually, openTestRedis, openTestStore, testAccessToken, testLogger, testSecretBox, ThirdPartyStub, uniqueName, type TestStore } from '@music/testing';
import { loadIntegrationConfig, type IntegrationConfig } from './config';
import { INTEGRATION, integrationContainer, type IntegrationDeps } from './container';
import { AccountOutbound } from './delivery/account-outbound';
import { MappingCache } from './engine/mapping-cache';
import { ConfigurationMemory } from './maintenance/configuration-memory';
import { startIntegrationIn, type IntegrationRuntime } from './integration-runtime';
import { PollRun } from './polling/poll-run';

/** An organization's stored settings (webhook and entry ids kept), to store again changed (`OrganizationRepository.replace`). */
export function settingsOf(org: Organization): OrganizationSettings {
  const { id: _id, ownerId: _owner, revision: _r, createdAt: _c, updatedAt: _u, ...settings } = org;
  return settings;
}

/** The test organizations' mapping: the third party's id, name, artist and album. */
export const TRACK_MAPPINGS = {
  externalId: { type: 'string', source: 'id', required: true },
  name: { type: 'string', source: 'name', required: true },
  artist: { type: 'string', source: 'artist', required: 'true' },
  album: { type: 'string', source: 'album', required: 'true' },
};

/**
 * One integration app (use cases + workers + HTTP) built from its container on the real store and
 * Redis, with a unique database and queue prefix, and a stub third party on loopback. A test
 * replaces a registration in `overrides` (called on every container before anything is resolved).
 */
export class IntegrationHarness {
  store!: TestStore;
  redis!: Redis;
  prefix = uniqueName('it');
  config!: IntegrationConfig;
  runtime!: IntegrationRuntime;
  app!: Express;
  thirdParty = new ThirdPartyStub();
  organizations!: OrganizationRepository;
  /** The one writer of item state, as the inventory app builds it (local writes). */
  sync!: SyncState;
  readonly ownerId = 'user-owner';
  extraRuntimes: IntegrationRuntime[] = [];
  /** Replaces registrations of each container the harness builds (`provideValue`/`provideFactory`). */
  overrides: (container: DependencyContainer) => void = () => undefined;

  /**
   * A poll run wired by hand, outside the container, for a spec that watches or slows the store's
   * commands: `models` serve the items and the one writer (default: the harness's store), `records`
   * the organizations and the runs; `locks` default to the harness's prefix; `memory`: the entry's
   * page memory (none by default); `candidateBatch`, `deletionBatch`: the deletion pass's candidates
   * read, and items deleted, per batch (default: the engine's); `sync`: the one writer as the run sees it (a spec holding one of its
   * steps). Its time cap is the config's, at most a minute.
   */
  pollRunOver(
    options: {
      models?: Models;
      records?: Models;
      locks?: RedisLocks;
      memory?: PollMemoryRepository;
      candidateBatch?: number;
      deletionBatch?: number;
      sync?: (sync: SyncState) => SyncState;
    } = {},
  ): PollRun {
    const models = options.models ?? this.store.models;
    const records = options.records ?? this.store.models;
    const locks = options.locks ?? new RedisLocks(this.redis, { prefix: this.prefix });
    let sync = createSyncState({ models, locks });
    if (options.candidateBatch !== undefined || options.deletionBatch !== undefined) {
      sync.remote = new RemoteChanges(sync.items, models, new OrganizationRepository(records), {
        ...(options.candidateBatch !== undefined ? { candidateBatch: options.candidateBatch } : {}),
        ...(options.deletionBatch !== undefined ? { deletionBatch: options.deletionBatch } : {}),
      });
    }
    if (options.sync) sync = options.sync(sync);
    return new PollRun({
      organizations: new OrganizationRepository(records, testSecretBox()),
      runs: new SyncRunRepository(records),
      items: new InventoryRepository(models),
      sync,
      configuration: new ConfigurationMemory({ sync, redis: this.redis, prefix: this.prefix, logger: testLogger() }),
      ...(options.memory ? { memory: options.memory } : {}),
      http: new AccountOutbound(
        createOutboundClient({ allowList: ['127.0.0.1'], timeoutMs: 3000, maxBytes: 1 << 20 }),
        createRateLimiter({ redis: this.redis, prefix: `${this.prefix}:quota`, limit: 1000, windowSeconds: 60 }),
        1000,
      ),
      mappings: new MappingCache(),
      locks,
      logger: testLogger(),
      deleteGuardRatio: 0.5,
      // Below TOMBSTONE_RETENTION_MS, as the config requires of POLL_RUN_MAX_MS.
      maxRunMs: Math.min(60_000, this.config.POLL_RUN_MAX_MS),
      tombstoneRetentionMs: this.config.TOMBSTONE_RETENTION_MS,
      leaseTtlMs: 30_000,
      pagesPerRun: 1000,
    });
  }

  /** `monitorCommands`: the store connection emits the driver's command events (tests that count commands). */
  async start(env: Record<string, string> = {}, options: { monitorCommands?: boolean } = {}): Promise<this> {
    this.store = await openTestStore('integration', options);
    this.redis = openTestRedis();
    await this.thirdParty.start();
    this.config = loadIntegrationConfig({
      NODE_ENV: 'test',
      QUEUE_PREFIX: this.prefix,
      OUTBOUND_ALLOW_LIST: '127.0.0.1',
      OUTBOUND_TIMEOUT_MS: '3000',
      DELIVERY_BACKOFF_BASE_MS: '50',
      DELIVERY_ATTEMPTS: '5',
      SWEEP_INTERVAL_MS: '300',
      OUTBOX_GRACE_MS: '500',
      POLL_ATTEMPTS: '1',
      ...env,
    });
    this.runtime = await this.startRuntime();
    this.app = resolve(this.runtime.container, INTEGRATION.app);
    this.organizations = new OrganizationRepository(this.store.models, secretBoxFrom(this.config));
    this.sync = createSyncState({ models: this.store.models, locks: new RedisLocks(this.redis, { prefix: this.prefix }) });
    return this;
  }

  /** What each container is built from (a subclass adds a logger or a metrics registry). */
  protected runtimeDeps(): IntegrationDeps {
    return { config: this.config, logger: testLogger(), models: this.store.models, redis: this.redis, bullConnection: this.redis };
  }

  /** Another process's worth of use cases and workers on the same store and queues. */
  async startRuntime(): Promise<IntegrationRuntime> {
    const container = integrationContainer(this.runtimeDeps());
    this.overrides(container);
    const runtime = await startIntegrationIn(container);
    if (this.runtime) this.extraRuntimes.push(runtime);
    return runtime;
  }

  /** One of the first runtime's registrations: a repository, a use case, the queues. */
  use<T>(name: Token<T>): T {
    return resolve(this.runtime.container, name);
  }

  get queues() {
    return this.use(INTEGRATION.queues);
  }

  get runs() {
    return this.use(INTEGRATION.runs);
  }

  get deliveries() {
    return this.use(INTEGRATION.deliveries);
  }

  get schedules() {
    return this.use(INTEGRATION.schedules);
  }

  async stop(): Promise<void> {
    for (const r of [...this.extraRuntimes, this.runtime]) await r?.close();
    await clearPrefix(this.redis, this.prefix);
    this.redis.disconnect();
    await this.thirdParty.close();
    await this.store.close();
  }

  token(userId = this.ownerId): string {
    return testAccessToken({ id: userId, email: `${userId}@test.dev` });
  }

  /**
   * An organization polling the stub's /music and delivering to its /sync/create (two-way by
   * default). Its polling schedules are registered only with `schedule: true`: a scheduler fires
   * its first poll at once, which would race the polls a test runs itself.
   */
  async createOrganization(overrides: Partial<Record<string, unknown>> = {}, options: { schedule?: boolean } = {}): Promise<ReturnType<OrganizationRepository['create']> extends Promise<infer O> ? O : never> {
    // Webhooks may carry server-held credentials (token hashes, a rotation's previous secret), which
    // the input schema does not take: set aside, then put back after validation.
    const webhooks = overrides['webhooks'] as Array<Record<string, unknown>> | undefined;
    const held = (webhooks ?? []).map(({ type: _t, url: _u, method: _m, secret: _s, ...rest }) => rest as WebhookCredentials);
    const input: OrganizationInput = organizationInputSchema.parse({
      name: 'Test org',
      synchronization: 'two-way',
      webhooks: [
        { type: 'input', url: 'http://localhost:3003/sync', method: 'POST' },
        { type: 'input', url: 'http://localhost:3003/sync', method: 'DELETE' },
        { type: 'output', url: `${this.thirdParty.baseUrl}/sync/create`, method: 'POST' },
        { type: 'output', url: `${this.thirdParty.baseUrl}/sync/create`, method: 'DELETE' },
      ],
      polling: [{ endpoint: `${this.thirdParty.baseUrl}/music`, interval: 1, type: 'hour' }],
      mappings: TRACK_MAPPINGS,
      transforms: [],
      ...overrides,
      ...(webhooks ? { webhooks: webhooks.map(({ type, url, method, secret }) => ({ type, url, method, ...(secret !== undefined ? { secret } : {}) })) } : {}),
    });
    const settings = withEntryIds(input);
    const org = await this.organizations.create(this.ownerId, { ...settings, webhooks: settings.webhooks.map((w, i) => ({ ...w, ...held[i] })) });
    if (options.schedule) await this.use(INTEGRATION.reconcileOrganization).execute(org.id);
    return org;
  }

  /** Runs one poll of the organization's first polling entry now and returns its outcome. */
  async pollNow(organizationId: string) {
    const org = await this.organizations.findById(organizationId);
    const entry = org?.polling[0];
    if (!entry) throw new Error('organization has no polling entry');
    return this.use(INTEGRATION.pollRun).execute({ version: 1, organizationId, pollingId: entry.id, trigger: 'manual' }, async () => undefined);
  }

  /** What the inventory API does on a local write: the write (with its outbox event), then the enqueue. */
  async enqueueFanout(item: { id: string; organizationId: string; pendingEvent: { id: string } | null } | null): Promise<void> {
    if (!item?.pendingEvent) return;
    await addJob(this.queues.output, JOBS.fanout, { version: 1, organizationId: item.organizationId, itemId: item.id, eventId: item.pendingEvent.id }, jobSettingsFrom(this.config));
  }

  private async organization(organizationId: string) {
    const org = await this.organizations.findById(organizationId);
    if (!org) throw new Error(`no organization ${organizationId}`);
    return org;
  }

  /** A local create through the one writer, as the inventory API makes it. */
  async createLocal(organizationId: string, externalId: string, data: Record<string, unknown>, enqueue = true): Promise<InventoryItem> {
    const outcome = await this.sync.local.create(await this.organization(organizationId), { externalId, data });
    if (outcome.kind !== 'created' && outcome.kind !== 'revived') throw new Error(`create failed: ${outcome.kind}`);
    if (enqueue) await this.enqueueFanout(outcome.item);
    return outcome.item;
  }

  /** The owner removes the organization's first polling entry; the change's reconciliation runs as the product runs it, unless `reconcile` is false. */
  async removeFirstEntry(org: Organization, reconcile = true): Promise<Organization> {
    const removed = await this.organizations.replace(this.ownerId, org.id, { ...settingsOf(org), polling: org.polling.slice(1) });
    if (!removed) throw new Error('the organization was not replaced');
    if (reconcile) await this.use(INTEGRATION.reconcileOrganization).execute(org.id);
    return removed;
  }

  /**
   * A local create whose delivery was answered while the item never learned it: the fan-out's first
   * attempt fails (503) and leaves the delivery to its deliver job, whose run is then interrupted
   * between its two writes (the answer recorded, written here as the writer writes it, since the
   * point is to stop between the two). The item stays pending, awaiting the webhook; the delivery
   * is returned for its job to run again.
   */
  async answeredNotLearned(organizationId: string, externalId: string, data: Record<string, unknown>): Promise<Delivery> {
    const item = await this.createLocal(organizationId, externalId, data, false);
    this.thirdParty.failures.sync = { count: 1, status: 503 };
    await this.use(INTEGRATION.fanOutChange).execute({ version: 1, organizationId, itemId: item.id, eventId: (item.pendingEvent as { id: string }).id });
    const [delivery] = await this.deliveries.listForOrganization(organizationId, { limit: 5 });
    if (!delivery) throw new Error('no delivery');
    const at = new Date();
    await this.store.models.deliveries.updateOne(
      { _id: delivery.id },
      { $set: { status: 'succeeded', attempts: 2, lastAttempts: [{ at, statusCode: 200, error: null, ms: 5 }], updatedAt: at, deliveredAt: at } },
    );
    return delivery;
  }

  /** A local update of the item's data (read first, and read again when it changed meanwhile, as the inventory API does). */
  async updateLocal(organizationId: string, externalId: string, data: Record<string, unknown>, enqueue = true): Promise<InventoryItem> {
    const org = await this.organization(organizationId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const item = await this.sync.items.read(inventoryItemId(organizationId, externalId));
      if (!item) throw new Error(`no item ${externalId}`);
      const outcome = await this.sync.local.update(org, item, data);
      if (outcome.kind === 'changed') continue;
      if (outcome.kind !== 'written' || !outcome.item) throw new Error(`update failed: ${outcome.kind}`);
      if (enqueue) await this.enqueueFanout(outcome.item);
      return outcome.item;
    }
    throw new Error('update failed: the item kept changing');
  }

  /** A local delete (two-way: a tombstone carrying the DELETE). */
  async deleteLocal(organizationId: string, externalId: string, enqueue = true): Promise<InventoryItem | null> {
    const org = await this.organization(organizationId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const item = await this.sync.items.read(inventoryItemId(organizationId, externalId));
      if (!item) throw new Error(`no item ${externalId}`);
      const outcome = await this.sync.local.delete(org, item);
      if (outcome.kind === 'changed' || outcome.kind === 'unchanged') continue;
      if (outcome.kind !== 'written') throw new Error(`delete failed: ${outcome.kind}`);
      if (enqueue) await this.enqueueFanout(outcome.item);
      return outcome.item;
    }
    throw new Error('delete failed: the item kept changing');
  }

  /** The organization's live items (tombstones left out), by externalId. */
  async items(organizationId: string): Promise<InventoryItemDoc[]> {
    return (await this.allItems(organizationId)).filter((i) => !i.deleted);
  }

  /** Every document of the organization, tombstones included, by externalId. */
  async allItems(organizationId: string): Promise<InventoryItemDoc[]> {
    return this.store.models.inventoryItems.find({ organizationId }).sort({ externalId: 1 }).lean<InventoryItemDoc[]>();
  }

  /** One document by externalId (tombstone or not). */
  async item(organizationId: string, externalId: string): Promise<InventoryItemDoc | null> {
    return this.store.models.inventoryItems.findOne({ _id: inventoryItemId(organizationId, externalId) }).lean<InventoryItemDoc>();
  }

  /** Waits until the output queue has nothing waiting, delayed or active. */
  async drainOutput(timeoutMs = 15000): Promise<void> {
    await eventually(
      async () => {
        const counts = await this.queues.output.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(counts).every((n) => n === 0);
      },
      'the output queue to drain',
      timeoutMs,
    );
  }
}
