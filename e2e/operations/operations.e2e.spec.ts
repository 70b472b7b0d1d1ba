import { testProductionKeys, testUrls, uniqueName } from '@music/testing';
import { APPS, startStack, type Stack } from '../stack-processes';

// The operator-facing endpoints as the apps' main.ts wire them: the five apps as processes in
// production mode (JSON logs), each with its process metrics, API docs, and the queue dashboard.

jest.setTimeout(120_000);

const ADMIN = { user: 'ops', password: 'e2e-admin-password' };
const basic = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;

describe('operating the system: metrics, docs, dashboard and log lines of the running apps', () => {
  let stack: Stack;

  beforeAll(async () => {
    const { mongoUrl, redisUrl } = testUrls();
    stack = await startStack(
      {
        NODE_ENV: 'production',
        // Loopback, as outside production: an app on every interface can share its port with
        // another test's app on loopback (both binds succeed), which then answers its URL.
        HTTP_HOST: '127.0.0.1',
        MONGO_URL: mongoUrl,
        MONGO_DB: uniqueName('e2e_ops'),
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: uniqueName('e2e_ops'),
        ...testProductionKeys(),
        OUTBOUND_ALLOW_LIST: '127.0.0.1,localhost,::1',
        LOG_LEVEL: 'http',
      },
      { 'music-integration': { ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password } },
    );
  });
  afterAll(async () => stack?.stop());

  it.each(APPS)('%s serves /metrics with its process metrics and request histogram, and /docs', async (name) => {
    const url = stack.url(name);
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(new RegExp(`^process_cpu_user_seconds_total\\{service="${name}"\\} `, 'm'));
    expect(text).toMatch(new RegExp(`^http_request_duration_seconds_count\\{service="${name}",method="GET",route="/health/live",status="200"\\} [1-9]\\d*$`, 'm'));
    const docs = await fetch(`${url}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain(`<title>${name}</title>`);
  });

  it.each(APPS)('%s answers GET / with its index: what it is, and links to its docs and health (and the dashboard)', async (name) => {
    const url = stack.url(name);
    const index = (await (await fetch(`${url}/`)).json()) as { service: string; description: string; links: Array<{ href: string }> };
    expect(index.service).toBe(name);
    expect(index.description.length).toBeGreaterThan(20);
    const hrefs = index.links.map((l) => l.href);
    expect(hrefs).toEqual(expect.arrayContaining(['/docs', '/health/ready', '/health/live', '/metrics']));
    if (name === 'music-integration') expect(hrefs).toContain('/admin/queues');
    else expect(hrefs).not.toContain('/admin/queues');
    // Every link works (the dashboard asks for its login).
    for (const href of hrefs) expect((await fetch(`${url}${href}`, { headers: { authorization: basic } })).status).toBe(200);
    const page = await fetch(`${url}/`, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain(`<h1>${name}</h1>`);
  });

  it('music-integration counts the engine on the same registry and serves the dashboard behind its login', async () => {
    const url = stack.url('music-integration');
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/^music_queue_jobs\{queue="output",state="waiting",service="music-integration"\} \d+$/m);
    expect(text).toMatch(/^# TYPE music_sync_runs_total counter$/m);
    expect((await fetch(`${url}/admin/queues`)).status).toBe(401);
    expect((await fetch(`${url}/admin/queues`, { headers: { authorization: basic } })).status).toBe(200);
    // Only the integration app has one.
    expect((await fetch(`${stack.url('music-config')}/admin/queues`, { headers: { authorization: basic } })).status).toBe(404);
  });

  it('writes JSON log lines in production, the request line carrying the request id and the org id', async () => {
    const json = { 'content-type': 'application/json' };
    const credentials = JSON.stringify({ email: `${uniqueName('ops')}@test.com`, password: 'a-good-password' });
    expect((await fetch(`${stack.url('music-auth')}/auth/sign-up`, { method: 'POST', headers: json, body: credentials })).status).toBe(201);
    const { token } = (await (await fetch(`${stack.url('music-auth')}/auth/sign-in`, { method: 'POST', headers: json, body: credentials })).json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };
    const body = JSON.stringify({ synchronization: 'one-way', mappings: { externalId: { type: 'string', source: 'id', required: true } } });
    const created = await fetch(`${stack.url('music-config')}/organization`, { method: 'POST', headers: { ...json, ...auth }, body });
    expect(created.status).toBe(201);
    const { id: orgId } = (await created.json()) as { id: string };

    const config = stack.apps['music-config'];
    expect((await fetch(`${config.url}/organization/${orgId}`, { headers: { ...auth, 'x-request-id': 'e2e-trace-1' } })).status).toBe(200);
    const integration = stack.apps['music-integration'];
    expect((await fetch(`${integration.url}/organization/${orgId}/sync-runs`, { headers: { ...auth, 'x-request-id': 'e2e-trace-2' } })).status).toBe(200);

    const linesWith = async (app: { output: string[] }, requestId: string): Promise<Array<Record<string, unknown>>> => {
      for (let i = 0; i < 50; i++) {
        const found = app.output
          .join('')
          .split('\n')
          .filter((l) => l.includes(requestId))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        if (found.length > 0) return found;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no log line with ${requestId}`);
    };
    expect(await linesWith(config, 'e2e-trace-1')).toContainEqual(
      expect.objectContaining({ level: 'http', message: 'request', service: 'music-config', requestId: 'e2e-trace-1', orgId, status: 200, path: `/organization/${orgId}` }),
    );
    expect(await linesWith(integration, 'e2e-trace-2')).toContainEqual(
      expect.objectContaining({ message: 'request', service: 'music-integration', requestId: 'e2e-trace-2', orgId, status: 200, path: `/organization/${orgId}/sync-runs` }),
    );
  });
});
