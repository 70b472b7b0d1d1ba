import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import request from 'supertest';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { exampleOrganization } from '@music/domain';
import { compareRoutesWithDocument, resolve, type OpenApiDocument } from '@music/platform';
import { openQueue, QUEUE_NAMES, type FanoutJob, type OrgChangedJob, type PollJob, type PurgeOrganizationJob } from '@music/queue';
import { LOOSE_ORGANIZATION_BODY, clearPrefix, openTestRedis, openTestStore, testLogger, uniqueName, type TestStore } from '@music/testing';
import { createAuthApp } from '../../apps/music-auth/src/app';
import { authApiDocument } from '../../apps/music-auth/src/auth.openapi';
import { loadAuthConfig } from '../../apps/music-auth/src/config';
import { createConfigApp } from '../../apps/music-config/src/app';
import { configApiDocument } from '../../apps/music-config/src/config.openapi';
import { loadConfigServiceSettings } from '../../apps/music-config/src/config';
import { createFakerApp } from '../../apps/music-faker/src/app';
import { fakerApiDocument } from '../../apps/music-faker/src/faker.openapi';
import { loadFakerConfig } from '../../apps/music-faker/src/config';
import { INTEGRATION } from '../../apps/music-integration/src/container';
import { integrationApiDocument } from '../../apps/music-integration/src/integration.openapi';
import { loadIntegrationConfig } from '../../apps/music-integration/src/config';
import { startIntegration, type IntegrationRuntime } from '../../apps/music-integration/src/integration-runtime';
import { createInventoryApp } from '../../apps/music-inventory/src/app';
import { inventoryApiDocument } from '../../apps/music-inventory/src/inventory.openapi';
import { loadInventoryConfig } from '../../apps/music-inventory/src/config';

// The original walkthrough's example bodies as users first wrote them (the `webhook` spelling,
// `"required": "true"` as strings, the `{{ orgId }}` placeholder filled in).
const BRIEF = {
  signUp: { email: 'user@test.com', password: '12345678' },
  organization: LOOSE_ORGANIZATION_BODY,
  fakerConfig: (orgId: string) => ({ create: [], remove: [`http://localhost:3003/sync?orgId=${orgId}`] }),
  generate: { count: 5 },
  inventory: { externalId: 'brief-1', name: 'Song', artist: 'Artist', album: 'Album' },
};

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Json = Record<string, unknown>;

/** Compiles the document's request and response schemas with ajv (JSON Schema 2020-12, as OpenAPI 3.1 uses). */
class DocumentSchemas {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  constructor(readonly document: OpenApiDocument) {
    addFormats(this.ajv);
  }

  private operation(path: string, method: Method): Json {
    const op = (this.document.paths?.[path] as Record<string, Json> | undefined)?.[method];
    if (!op) throw new Error(`${method.toUpperCase()} ${path} is not documented`);
    return op;
  }

  // The schema with the document's components beside it, so `#/components/...` refs resolve.
  private compile(schema: unknown): ValidateFunction {
    return this.ajv.compile({ ...(schema as Json), components: this.document.components });
  }

  requestBody(path: string, method: Method): ValidateFunction {
    const body = this.operation(path, method)['requestBody'] as { content: Record<string, { schema: unknown }> };
    return this.compile(body.content['application/json']?.schema);
  }

  response(path: string, method: Method, status: number): ValidateFunction {
    const responses = this.operation(path, method)['responses'] as Record<string, { content?: Record<string, { schema?: unknown }> }>;
    const schema = responses[String(status)]?.content?.['application/json']?.schema;
    if (!schema) throw new Error(`${method.toUpperCase()} ${path} documents no JSON ${status} response`);
    return this.compile(schema);
  }

  /** Every example the document gives, with the schema it illustrates. */
  examples(): Array<{ where: string; example: unknown; validate: ValidateFunction }> {
    const out: Array<{ where: string; example: unknown; validate: ValidateFunction }> = [];
    for (const [path, item] of Object.entries(this.document.paths ?? {})) {
      for (const [method, op] of Object.entries(item as Record<string, Json>)) {
        const media = (op['requestBody'] as { content?: Record<string, { schema?: unknown; example?: unknown }> } | undefined)?.content?.['application/json'];
        if (media?.example !== undefined) out.push({ where: `${method.toUpperCase()} ${path}`, example: media.example, validate: this.compile(media.schema) });
      }
    }
    return out;
  }
}

/**
 * Validates a document against the OpenAPI 3.1 specification's own schema with
 * @seriousme/openapi-schema-validator. It is an ES module (import.meta), which Jest's CommonJS
 * runtime cannot load, so it runs in a child Node process.
 */
function validateOpenApi(document: OpenApiDocument): Promise<{ valid: boolean; errors?: unknown }> {
  const entry = pathToFileURL(require.resolve('@seriousme/openapi-schema-validator')).href;
  const script = `import { Validator } from ${JSON.stringify(entry)};
let text = '';
process.stdin.on('data', (c) => (text += c));
process.stdin.on('end', async () => process.stdout.write(JSON.stringify(await new Validator().validate(JSON.parse(text)))));`;
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', script], (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout) as { valid: boolean; errors?: unknown }),
    );
    child.stdin?.end(JSON.stringify(document));
  });
}

/** Asserts a value is valid, showing ajv's errors when not. */
function expectValid(validate: ValidateFunction, value: unknown, what: string): void {
  const ok = validate(value);
  if (!ok) throw new Error(`${what} does not validate against the document: ${JSON.stringify(validate.errors, null, 2)}`);
}

describe('API docs: one OpenAPI 3.1 document per app, from the zod schemas the routes use', () => {
  let store: TestStore;
  let redis: Redis;
  let prefix: string;
  let queues: Array<Queue<OrgChangedJob> | Queue<PollJob> | Queue<FanoutJob> | Queue<PurgeOrganizationJob>>;
  let integration: IntegrationRuntime;
  let apps: Record<'auth' | 'config' | 'inventory' | 'integration' | 'faker', { app: Express; document: OpenApiDocument }>;

  beforeAll(async () => {
    store = await openTestStore('apidocs');
    redis = openTestRedis();
    prefix = uniqueName('apidocs');
    const env = { NODE_ENV: 'test', QUEUE_PREFIX: prefix };
    const logger = testLogger();
    const orgEvents = openQueue<OrgChangedJob>(QUEUE_NAMES.orgEvents, { connection: redis, prefix });
    const polling = openQueue<PollJob>(QUEUE_NAMES.polling, { connection: redis, prefix });
    const output = openQueue<FanoutJob>(QUEUE_NAMES.output, { connection: redis, prefix });
    const maintenance = openQueue<PurgeOrganizationJob>(QUEUE_NAMES.maintenance, { connection: redis, prefix });
    queues = [orgEvents, polling, output, maintenance];
    const integrationConfig = loadIntegrationConfig({ ...env, RUN_WORKERS: 'false' });
    integration = await startIntegration({ config: integrationConfig, logger, models: store.models, redis, bullConnection: redis });
    apps = {
      auth: {
        app: createAuthApp({ config: loadAuthConfig({ ...env, BCRYPT_COST: '4', AUTH_RATE_LIMIT_PREFIX: `${prefix}:rl` }), logger, models: store.models, redis, healthChecks: [] }),
        document: authApiDocument({ metrics: true }),
      },
      config: {
        app: createConfigApp({ config: loadConfigServiceSettings(env), logger, models: store.models, redis, healthChecks: [], queues: { orgEvents, polling, maintenance } }),
        document: configApiDocument({ metrics: true }),
      },
      inventory: {
        app: createInventoryApp({ config: loadInventoryConfig(env), logger, models: store.models, redis, outputQueue: output, healthChecks: [] }),
        document: inventoryApiDocument({ metrics: true }),
      },
      integration: {
        app: resolve(integration.container, INTEGRATION.app),
        document: integrationApiDocument({ metrics: true }),
      },
      faker: { app: createFakerApp({ config: loadFakerConfig(env), logger }), document: fakerApiDocument({ metrics: true }) },
    };
  });

  afterAll(async () => {
    await integration.close();
    await Promise.all(queues.map((q) => q.close()));
    await clearPrefix(redis, prefix);
    redis.disconnect();
    await store.close();
  });

  it.each(['auth', 'config', 'inventory', 'integration', 'faker'] as const)('%s: documents every route it serves, and serves every route it documents', (name) => {
    const { app, document } = apps[name];
    // Built from the running app's router, so a new undocumented route fails here.
    expect(compareRoutesWithDocument(app, document)).toEqual({ undocumented: [], unserved: [] });
  });

  it.each(['auth', 'config', 'inventory', 'integration', 'faker'] as const)('%s: the document is valid OpenAPI 3.1, served at /openapi.json and rendered at /docs', async (name) => {
    const { app, document } = apps[name];
    const result = await validateOpenApi(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');

    const served = await request(app).get('/openapi.json');
    expect(served.status).toBe(200);
    expect(served.body).toEqual(JSON.parse(JSON.stringify(document)));
    const docs = await request(app).get('/docs/');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('swagger-ui-bundle.js');
    const init = await request(app).get('/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain(`"title": "music-${name}"`);
  });

  it.each(['auth', 'config', 'inventory', 'integration', 'faker'] as const)('%s: every example in the document validates against its schema', (name) => {
    const schemas = new DocumentSchemas(apps[name].document);
    const examples = schemas.examples();
    for (const { where, example, validate } of examples) expectValid(validate, example, `the example of ${where}`);
    if (name !== 'integration') expect(examples.length).toBeGreaterThan(0);
  });

  it("Swagger's example for POST /organization is the canonical example organization, and the app accepts it", async () => {
    const post = (apps.config.document.paths?.['/organization'] as { post: { requestBody: { content: Record<string, { example?: unknown }> } } }).post;
    const example = post.requestBody.content['application/json']?.example as ReturnType<typeof exampleOrganization>;
    // The shared fixture, in its canonical spelling, pointing at the local stack's faker and integration app.
    expect(example).toEqual(exampleOrganization());
    expect(example).not.toHaveProperty('webhook');
    expect(Object.values(example.mappings).map((m) => m.required)).toEqual([true, true, true, true]);
    expect(example.polling[0]?.endpoint).toBe('http://localhost:5000/music');
    expect(example.webhooks.map((w) => w.url)).toEqual(['http://localhost:3003/sync?orgId=', 'http://localhost:5000/sync/create']);
    const signUp = { email: `example-${uniqueName('u')}@test.com`, password: '12345678' };
    await request(apps.auth.app).post('/auth/sign-up').send(signUp).expect(201);
    const token = ((await request(apps.auth.app).post('/auth/sign-in').send(signUp)).body as { token: string }).token;
    const created = await request(apps.config.app).post('/organization').set('authorization', `Bearer ${token}`).send(example);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Example organization', synchronization: 'two-way', polling: [{ endpoint: 'http://localhost:5000/music' }] });
  });

  it("the walkthrough's bodies validate against the documents, the apps accept them, and their answers match the documented responses", async () => {
    const auth = new DocumentSchemas(apps.auth.document);
    const config = new DocumentSchemas(apps.config.document);
    const inventory = new DocumentSchemas(apps.inventory.document);
    const integrationDoc = new DocumentSchemas(apps.integration.document);
    const faker = new DocumentSchemas(apps.faker.document);

    expectValid(auth.requestBody('/auth/sign-up', 'post'), BRIEF.signUp, 'the walkthrough sign-up body');
    const signUp = await request(apps.auth.app).post('/auth/sign-up').send(BRIEF.signUp);
    expect(signUp.status).toBe(201);
    expectValid(auth.response('/auth/sign-up', 'post', 201), signUp.body, 'the sign-up answer');
    expectValid(auth.requestBody('/auth/sign-in', 'post'), BRIEF.signUp, 'the walkthrough sign-in body');
    const signIn = await request(apps.auth.app).post('/auth/sign-in').send(BRIEF.signUp);
    expect(signIn.status).toBe(200);
    expectValid(auth.response('/auth/sign-in', 'post', 200), signIn.body, 'the sign-in answer');
    const bearer = `Bearer ${(signIn.body as { token: string }).token}`;
    const me = await request(apps.auth.app).get('/auth/me').set('authorization', bearer);
    expectValid(auth.response('/auth/me', 'get', 200), me.body, 'the /auth/me answer');

    expectValid(config.requestBody('/organization', 'post'), BRIEF.organization, 'the walkthrough organization body');
    const created = await request(apps.config.app).post('/organization').set('authorization', bearer).send(BRIEF.organization);
    expect(created.status).toBe(201);
    expectValid(config.response('/organization', 'post', 201), created.body, 'the created organization');
    const org = created.body as { id: string };
    // What a GET answers can be PUT back as is (read-only fields are documented and ignored).
    expectValid(config.requestBody('/organization/{id}', 'put'), created.body, 'a GET answer sent back as a PUT body');
    const replaced = await request(apps.config.app).put(`/organization/${org.id}`).set('authorization', bearer).send(created.body as object);
    expect(replaced.status).toBe(200);
    expectValid(config.response('/organization/{id}', 'put', 200), replaced.body, 'the replaced organization');
    const listed = await request(apps.config.app).get('/organization').set('authorization', bearer);
    expectValid(config.response('/organization', 'get', 200), listed.body, 'the organization list');

    expectValid(faker.requestBody('/config', 'put'), BRIEF.fakerConfig(org.id), 'the walkthrough faker config body');
    expect((await request(apps.faker.app).put('/config').send(BRIEF.fakerConfig(org.id))).status).toBe(200);
    expectValid(faker.requestBody('/music/generate', 'post'), BRIEF.generate, 'the walkthrough generate body');
    const generated = await request(apps.faker.app).post('/music/generate').send(BRIEF.generate);
    expect(generated.status).toBe(201);
    expectValid(faker.response('/music/generate', 'post', 201), generated.body, 'the generated songs');
    expectValid(faker.response('/music', 'get', 200), (await request(apps.faker.app).get('/music')).body, 'the song list');

    expectValid(inventory.requestBody('/inventory', 'post'), BRIEF.inventory, 'the walkthrough inventory body');
    const item = await request(apps.inventory.app).post('/inventory').set('authorization', bearer).set('x-organization-id', org.id).send(BRIEF.inventory);
    expect(item.status).toBe(201);
    expectValid(inventory.response('/inventory', 'post', 201), item.body, 'the created item');
    const page = await request(apps.inventory.app).get(`/inventory/organization/${org.id}`).set('authorization', bearer);
    expectValid(inventory.response('/inventory/organization/{orgId}', 'get', 200), page.body, 'the item page');

    const sync = await request(apps.config.app).post(`/organization/${org.id}/sync`).set('authorization', bearer);
    expect(sync.status).toBe(202);
    expectValid(config.response('/organization/{id}/sync', 'post', 202), sync.body, 'the manual sync answer');
    const runId = (sync.body as { runs: Array<{ id: string }> }).runs[0]?.id;
    const runs = await request(apps.integration.app).get(`/organization/${org.id}/sync-runs`).set('authorization', bearer);
    expect((runs.body as { items: unknown[] }).items).toHaveLength(1);
    expectValid(integrationDoc.response('/organization/{id}/sync-runs', 'get', 200), runs.body, 'the sync-run page');
    const run = await request(apps.integration.app).get(`/organization/${org.id}/sync-runs/${runId}`).set('authorization', bearer);
    expectValid(integrationDoc.response('/organization/{id}/sync-runs/{runId}', 'get', 200), run.body, 'one sync run');
    const deliveries = await request(apps.integration.app).get(`/organization/${org.id}/deliveries`).set('authorization', bearer);
    expectValid(integrationDoc.response('/organization/{id}/deliveries', 'get', 200), deliveries.body, 'the delivery page');

    // Errors come back in the documented envelope.
    const invalid = await request(apps.config.app).post('/organization').set('authorization', bearer).send({ synchronization: 'sideways' });
    expect(invalid.status).toBe(400);
    expectValid(config.response('/organization', 'post', 400), invalid.body, 'a validation error');
    const anonymous = await request(apps.integration.app).get(`/organization/${org.id}/deliveries`);
    expectValid(integrationDoc.response('/organization/{id}/deliveries', 'get', 401), anonymous.body, 'a 401');
  });

  it('the documents refuse what the routes refuse: they are not empty schemas', async () => {
    const refused: Array<[DocumentSchemas, string, Method, unknown]> = [
      [new DocumentSchemas(apps.auth.document), '/auth/sign-up', 'post', { email: 'user@test.com', password: 'short' }],
      [new DocumentSchemas(apps.config.document), '/organization', 'post', { synchronization: 'two-way', webhooks: [] }],
      [new DocumentSchemas(apps.config.document), '/organization', 'post', { ...BRIEF.organization, surprise: true }],
      [new DocumentSchemas(apps.config.document), '/organization', 'post', { ...BRIEF.organization, polling: [{ endpoint: 'x', interval: 1, type: 'fortnight' }] }],
      [new DocumentSchemas(apps.inventory.document), '/inventory', 'post', { name: 'no externalId' }],
      [new DocumentSchemas(apps.faker.document), '/music/generate', 'post', { count: 0 }],
    ];
    for (const [schemas, path, method, body] of refused) {
      expect(schemas.requestBody(path, method)(body)).toBe(false);
    }
    // And the apps refuse the same bodies.
    const bearer = `Bearer ${((await request(apps.auth.app).post('/auth/sign-in').send(BRIEF.signUp)).body as { token: string }).token}`;
    expect((await request(apps.auth.app).post('/auth/sign-up').send({ email: 'other@test.com', password: 'short' })).status).toBe(400);
    expect((await request(apps.config.app).post('/organization').set('authorization', bearer).send({ ...BRIEF.organization, surprise: true })).status).toBe(400);
    expect((await request(apps.faker.app).post('/music/generate').send({ count: 0 })).status).toBe(400);
  });
});
