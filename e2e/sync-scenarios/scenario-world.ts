import { randomBytes } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { eventually, testAccessToken, testUrls, ThirdPartyStub, uniqueName, type StubRecord } from '@music/testing';
import { startStack, type Stack } from '../stack-processes';
import { EXAMPLE_MAPPINGS } from '@music/domain';

// The sync scenarios of issue 13, black-box: music-config, music-inventory and music-integration
// as processes (the way users run them), driven over HTTP only, with a stub third party on
// loopback that can hold a list response, fail or delay deliveries per path, and change its
// records between two pages. Only the purge check reads the store directly (what is left of a
// deleted organization is not visible through any API, by design).

export interface Json {
  [key: string]: unknown;
}

/** The engine settings of the scenarios: quick retries (6 attempts, 300 ms doubling to 1.5 s, about 5 s in all), a quick sweeper. */
export const SCENARIO_ENV = {
  DELIVERY_ATTEMPTS: '6',
  DELIVERY_BACKOFF_BASE_MS: '300',
  DELIVERY_BACKOFF_MAX_MS: '1500',
  SWEEP_INTERVAL_MS: '500',
  OUTBOX_GRACE_MS: '500',
  POLL_ATTEMPTS: '1',
  PURGE_RECHECK_MS: '300',
  MANUAL_SYNC_RATE_LIMIT_PER_MINUTE: '10000',
  WORKER_LOCK_DURATION_MS: '5000',
  WORKER_STALLED_INTERVAL_MS: '1000',
};

export const song = (id: string, name = `Song ${id}`, artist = `Artist ${id}`): StubRecord => ({ id, name, artist, album: `Album ${id}` });

export interface Response {
  status: number;
  body: Json;
}

export class ScenarioWorld {
  readonly stub = new ThirdPartyStub();
  readonly ownerId = `owner-${randomBytes(4).toString('hex')}`;
  stack!: Stack;
  private token = '';
  private readonly db = uniqueName('scenarios');
  private connection: Connection | null = null;

  async start(): Promise<this> {
    await this.stub.start();
    const { mongoUrl, redisUrl } = testUrls();
    this.stack = await startStack(
      {
        NODE_ENV: 'test',
        MONGO_URL: mongoUrl,
        MONGO_DB: this.db,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: uniqueName('scn'),
        OUTBOUND_ALLOW_LIST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        ...SCENARIO_ENV,
      },
      {},
      { only: ['music-config', 'music-inventory', 'music-integration'] },
    );
    this.token = testAccessToken({ id: this.ownerId, email: `${this.ownerId}@scenarios.test` }, 3600);
    return this;
  }

  async stop(): Promise<void> {
    await this.stack?.stop();
    await this.stub.close();
    const connection = await this.store().catch(() => null);
    if (connection) {
      await connection.dropDatabase().catch(() => undefined);
      await connection.close();
    }
  }

  /** The apps' database, read directly (only to see what a purge left behind). */
  async store(): Promise<Connection> {
    this.connection ??= await mongoose.createConnection(testUrls().mongoUrl, { dbName: this.db }).asPromise();
    return this.connection;
  }

  async call(app: 'music-config' | 'music-inventory' | 'music-integration', method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    const res = await fetch(`${this.stack.url(app)}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}`, ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
  }

  // ---- organizations ----------------------------------------------------------------------------

  /** Creates an organization; its polling entries' first scheduled runs are waited for. */
  async createOrganization(settings: Json): Promise<Json & { id: string }> {
    const res = await this.call('music-config', 'POST', '/organization', { mappings: EXAMPLE_MAPPINGS, transforms: [], ...settings });
    if (res.status !== 201) throw new Error(`create organization answered ${res.status}: ${JSON.stringify(res.body)}`);
    const org = res.body as Json & { id: string };
    const entries = (org['polling'] as unknown[]).length;
    if (entries > 0) await eventually(async () => (await this.finishedRuns(org.id)).length >= entries, 'the first scheduled runs', 30_000);
    return org;
  }

  async organization(id: string): Promise<Json> {
    return (await this.call('music-config', 'GET', `/organization/${id}`)).body;
  }

  // ---- runs -------------------------------------------------------------------------------------

  async runs(orgId: string): Promise<Json[]> {
    return ((await this.call('music-integration', 'GET', `/organization/${orgId}/sync-runs?limit=200`)).body['items'] as Json[]) ?? [];
  }

  async finishedRuns(orgId: string): Promise<Json[]> {
    return (await this.runs(orgId)).filter((r) => r['finishedAt'] !== null);
  }

  /** `POST /organization/:id/sync`; returns the run ids (one per polling entry). */
  async syncNow(orgId: string): Promise<string[]> {
    const res = await this.call('music-config', 'POST', `/organization/${orgId}/sync`);
    if (res.status !== 202) throw new Error(`sync answered ${res.status}: ${JSON.stringify(res.body)}`);
    return (res.body['runs'] as Array<{ id: string }>).map((r) => r.id);
  }

  async waitRun(orgId: string, runId: string, timeoutMs = 30_000): Promise<Json> {
    return eventually(
      async () => {
        const run = (await this.call('music-integration', 'GET', `/organization/${orgId}/sync-runs/${runId}`)).body;
        return run['finishedAt'] ? run : undefined;
      },
      `run ${runId} to finish`,
      timeoutMs,
    );
  }

  /** A manual sync, waited for: the finished runs. */
  async syncAndWait(orgId: string): Promise<Json[]> {
    const ids = await this.syncNow(orgId);
    const runs: Json[] = [];
    for (const id of ids) runs.push(await this.waitRun(orgId, id));
    return runs;
  }

  // ---- our inventory ----------------------------------------------------------------------------

  async items(orgId: string): Promise<Json[]> {
    const res = await this.call('music-inventory', 'GET', `/inventory/organization/${orgId}?limit=200`);
    return (res.body['items'] as Json[]) ?? [];
  }

  async item(orgId: string, externalId: string): Promise<Json | undefined> {
    return (await this.items(orgId)).find((i) => i['externalId'] === externalId);
  }

  async localCreate(orgId: string, record: StubRecord): Promise<Response> {
    const { id, ...fields } = record;
    return this.call('music-inventory', 'POST', '/inventory', { externalId: id, ...fields }, { 'x-organization-id': orgId });
  }

  async localPatch(orgId: string, externalId: string, change: Json): Promise<Response> {
    const item = await this.item(orgId, externalId);
    if (!item) throw new Error(`no local item ${externalId}`);
    return this.call('music-inventory', 'PATCH', `/inventory/${String(item['id'])}`, change, { 'x-organization-id': orgId });
  }

  async localDelete(orgId: string, externalId: string): Promise<Response> {
    const item = await this.item(orgId, externalId);
    if (!item) throw new Error(`no local item ${externalId}`);
    return this.call('music-inventory', 'DELETE', `/inventory/${String(item['id'])}`, undefined, { 'x-organization-id': orgId });
  }

  // ---- deliveries, divergences, input webhooks -----------------------------------------------------

  async deliveries(orgId: string, query = ''): Promise<Json[]> {
    return ((await this.call('music-integration', 'GET', `/organization/${orgId}/deliveries?limit=200${query}`)).body['items'] as Json[]) ?? [];
  }

  async sendWebhook(orgId: string, method: 'POST' | 'DELETE', record: StubRecord, webhookId: string): Promise<Response> {
    return this.call('music-integration', method, `/sync?orgId=${orgId}`, record, { 'webhook-id': webhookId });
  }

  /** Waits until no delivery of the organization is pending. */
  async deliveriesSettled(orgId: string, timeoutMs = 20_000): Promise<Json[]> {
    return eventually(
      async () => {
        const all = await this.deliveries(orgId);
        return all.length > 0 && all.every((d) => d['status'] !== 'pending') ? all : undefined;
      },
      'every delivery to finish',
      timeoutMs,
    );
  }
}
