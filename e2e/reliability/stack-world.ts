import { eventually, testUrls, uniqueName } from '@music/testing';
import { startStack, type AppName, type Stack } from '../stack-processes';
import { call, songsOf, type Answer, type Song } from './http-client';
import { EXAMPLE_MAPPINGS } from '@music/domain';

// The five apps as processes (e2e/stack-processes.ts) plus what the fault tests do with them: a
// signed-in user, an organization syncing with the faker, and readers for both sides.

export interface WorldOptions {
  /** Settings for every app (merged over the defaults below). */
  env?: Record<string, string>;
  perApp?: Partial<Record<AppName, Record<string, string>>>;
}

/** Shortened BullMQ stall detection: a killed worker's jobs run again within ~5 s instead of ~60 s. */
export const FAST_RECOVERY = { WORKER_LOCK_DURATION_MS: '4000', WORKER_STALLED_INTERVAL_MS: '1000' };

export class StackWorld {
  stack!: Stack;
  token = '';
  orgId = '';
  private constructor() {}

  static async open(options: WorldOptions = {}): Promise<StackWorld> {
    const world = new StackWorld();
    const { mongoUrl, redisUrl } = testUrls();
    world.stack = await startStack(
      {
        NODE_ENV: 'test',
        MONGO_URL: mongoUrl,
        MONGO_DB: uniqueName('e2e_rel'),
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: uniqueName('e2e_rel'),
        OUTBOUND_ALLOW_LIST: '127.0.0.1,localhost,::1',
        LOG_LEVEL: 'warn',
        BCRYPT_COST: '4',
        AUTH_RATE_LIMIT_PREFIX: uniqueName('e2e_rel_rl'),
        ...options.env,
      },
      options.perApp,
    );
    return world;
  }

  url(app: AppName): string {
    return this.stack.url(app);
  }

  get auth(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  async signIn(): Promise<void> {
    const email = `${uniqueName('rel')}@test.dev`;
    const password = 'correct horse battery staple';
    await call('POST', `${this.url('music-auth')}/auth/sign-up`, { email, password });
    this.token = (await call('POST', `${this.url('music-auth')}/auth/sign-in`, { email, password })).body.token as string;
  }

  /** A two-way organization polling the faker (`interval` minutes, pagination optional) and delivering to it. */
  async createOrganization(polling: Record<string, unknown> = { interval: 1, type: 'day' }): Promise<string> {
    const faker = this.url('music-faker');
    const res = await call(
      'POST',
      `${this.url('music-config')}/organization`,
      {
        synchronization: 'two-way',
        webhooks: [
          { type: 'output', url: `${faker}/sync/create`, method: 'POST' },
          { type: 'output', url: `${faker}/sync/delete`, method: 'DELETE' },
        ],
        polling: [{ endpoint: `${faker}/music`, ...polling }],
        mappings: EXAMPLE_MAPPINGS,
        transforms: [],
      },
      this.auth,
    );
    if (res.status !== 201) throw new Error(`organization not created: ${res.status} ${res.text}`);
    this.orgId = res.body.id as string;
    return this.orgId;
  }

  async createItem(externalId: string): Promise<Answer> {
    return call('POST', `${this.url('music-inventory')}/inventory`, { externalId, name: `Local ${externalId}`, artist: 'Us', album: 'Here' }, { ...this.auth, 'x-organization-id': this.orgId });
  }

  /** Every inventory item of the organization, all pages. */
  async inventory(): Promise<Array<Record<string, unknown>>> {
    const all: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    do {
      const page: Answer = await call('GET', `${this.url('music-inventory')}/inventory/organization/${this.orgId}?limit=200${cursor ? `&cursor=${cursor}` : ''}`, undefined, this.auth);
      if (page.status !== 200) throw new Error(`inventory answered ${page.status}: ${page.text}`);
      all.push(...(page.body.items as Array<Record<string, unknown>>));
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
    return all;
  }

  async fakerItems(): Promise<Array<Record<string, unknown>>> {
    return (await call('GET', `${this.url('music-faker')}/music`)).body as Array<Record<string, unknown>>;
  }

  async received(): Promise<{ total: number; applied: number; duplicates: number; faults: number; deliveries: Array<{ webhookId: string | null; outcome: string; method: string }> }> {
    return (await call('GET', `${this.url('music-faker')}/sync/received`)).body;
  }

  /** Deliveries of the organization by status (first 200). */
  async deliveries(status?: string): Promise<Array<Record<string, any>>> {
    const res = await call('GET', `${this.url('music-integration')}/organization/${this.orgId}/deliveries?limit=200${status ? `&status=${status}` : ''}`, undefined, this.auth);
    return (res.body.items ?? []) as Array<Record<string, any>>;
  }

  async run(runId: string): Promise<Record<string, any>> {
    return (await call('GET', `${this.url('music-integration')}/organization/${this.orgId}/sync-runs/${runId}`, undefined, this.auth)).body;
  }

  async syncNow(): Promise<string> {
    const res = await call('POST', `${this.url('music-config')}/organization/${this.orgId}/sync`, {}, this.auth);
    if (res.status !== 202) throw new Error(`sync answered ${res.status}: ${res.text}`);
    return (res.body.runs as Array<{ id: string }>)[0]?.id as string;
  }

  async faults(plan: Record<string, unknown> | null): Promise<void> {
    const faker = this.url('music-faker');
    const res = plan ? await call('PUT', `${faker}/_faults`, plan) : await call('DELETE', `${faker}/_faults`);
    if (res.status >= 300) throw new Error(`faults answered ${res.status}: ${res.text}`);
  }

  /** Calls taken by the current fault plan so far (it was set with `failNext: limit`). */
  async faultCallsTaken(limit: number): Promise<number> {
    const plan = (await call('GET', `${this.url('music-faker')}/_faults`)).body.faults as { remaining: number | null } | null;
    return plan?.remaining === null || plan === null ? 0 : limit - plan.remaining;
  }

  /**
   * Both sides hold the same songs: every inventory item is at the faker with the same fields and
   * the other way round, no externalId twice, nothing still pending. Returns the agreed songs.
   */
  async agreed(): Promise<Map<string, Song> | undefined> {
    const items = await this.inventory();
    const faker = await this.fakerItems();
    const ours = songsOf(items, 'externalId');
    const theirs = songsOf(faker, 'id');
    const pending = items.filter((i) => (i['sync'] as { pending: boolean }).pending).map((i) => String(i['externalId']));
    const onlyOurs = [...ours.keys()].filter((id) => !theirs.has(id));
    const onlyTheirs = [...theirs.keys()].filter((id) => !ours.has(id));
    const differ = [...ours].filter(([id, song]) => theirs.has(id) && JSON.stringify(theirs.get(id)) !== JSON.stringify(song)).map(([id]) => id);
    const twice = items.length - ours.size + (faker.length - theirs.size);
    this.disagreement = `${pending.length} pending [${pending.slice(0, 5).join(', ')}], ${onlyOurs.length} only here [${onlyOurs.slice(0, 5).join(', ')}], ${onlyTheirs.length} only at the third party [${onlyTheirs.slice(0, 5).join(', ')}], ${differ.length} differ, ${twice} twice`;
    return pending.length + onlyOurs.length + onlyTheirs.length + differ.length + twice === 0 ? ours : undefined;
  }

  /** What `agreed()` last found different. */
  disagreement = '';

  async waitAgreed(what: string, timeoutMs = 45_000): Promise<Map<string, Song>> {
    try {
      return await eventually(() => this.agreed(), what, timeoutMs, 250);
    } catch (error) {
      throw new Error(`${(error as Error).message}; last difference: ${this.disagreement}`, { cause: error });
    }
  }

  async close(): Promise<void> {
    await this.stack?.stop();
  }
}
