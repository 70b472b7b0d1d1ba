import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { eventually, testProductionKeys, testUrls, uniqueName } from '@music/testing';
import { startStack, type Stack } from '../stack-processes';
import { EXAMPLE_MAPPINGS } from '@music/domain';

// Secrets (the token signing key and the secrets key from the environment, webhook secrets and
// call URL tokens, polling credentials, passwords and access tokens) never appear in any log line
// of any app, at debug level, through a flow that uses every one of them - signed deliveries, a
// failed and retried delivery, signed, token-carrying and forged input webhooks, a poll with
// credentials, a validation error on a secret - and the API shows them only as hints. All five
// apps run as processes, as users run them.

jest.setTimeout(120_000);

const KEYS = testProductionKeys();
const SECRETS_KEY = (KEYS.SECRETS_KEYS.split(':')[1] as string).slice(0, 40);
const POLL_TOKEN = `poll-${randomBytes(16).toString('hex')}`;
const INPUT_SECRET = 'whsec_' + randomBytes(32).toString('base64');
const OUTPUT_SECRET = 'whsec_' + randomBytes(32).toString('base64');
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string; body: Record<string, any> }> {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  const text = await res.text();
  let parsed: Record<string, any> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, any>) : {};
  } catch {
    // not JSON
  }
  return { status: res.status, text, body: parsed };
}

/** The forms a secret could leak in: whole, its base64 key body, and a long middle slice. */
const formsOf = (secret: string): string[] => {
  const body = secret.replace(/^whsec_/, '');
  return [secret, body, body.slice(4, 24)];
};

describe('secrets stay secret (five apps as processes, LOG_LEVEL=debug)', () => {
  let stack: Stack;
  beforeAll(async () => {
    const { mongoUrl, redisUrl } = testUrls();
    stack = await startStack(
      {
        NODE_ENV: 'test',
        MONGO_URL: mongoUrl,
        MONGO_DB: uniqueName('e2e_secrets'),
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: uniqueName('e2e_secrets'),
        ...KEYS,
        LOG_LEVEL: 'debug',
        OUTBOUND_ALLOW_LIST: '127.0.0.1,localhost,::1',
        BCRYPT_COST: '4',
        DELIVERY_BACKOFF_BASE_MS: '200',
        SWEEP_INTERVAL_MS: '1000',
        AUTH_RATE_LIMIT_PREFIX: uniqueName('e2e_secrets_rl'),
      },
      { 'music-faker': { FAKER_WEBHOOK_SECRET: OUTPUT_SECRET } },
    );
  });
  afterAll(async () => stack?.stop());

  it('appear in no log line of any app and in no API answer, while signing and verifying works', async () => {
    const auth = stack.url('music-auth');
    const config = stack.url('music-config');
    const inventory = stack.url('music-inventory');
    const integration = stack.url('music-integration');
    const faker = stack.url('music-faker');
    const answers: string[] = [];
    const keep = <T extends { text: string }>(r: T): T => (answers.push(r.text), r);

    const email = `${uniqueName('secret')}@test.dev`;
    expect(keep(await call('POST', `${auth}/auth/sign-up`, { email, password: PASSWORD })).status).toBe(201);
    expect(keep(await call('POST', `${auth}/auth/sign-in`, { email, password: 'wrong password here' })).status).toBe(401);
    const signIn = await call('POST', `${auth}/auth/sign-in`, { email, password: PASSWORD });
    const token = signIn.body['token'] as string;
    const bearer = { authorization: `Bearer ${token}` };

    await call('POST', `${faker}/music/generate`, { count: 2 });
    const org = keep(
      await call(
        'POST',
        `${config}/organization`,
        {
          synchronization: 'two-way',
          webhooks: [
            { type: 'input', url: `${integration}/sync`, method: 'POST', secret: INPUT_SECRET },
            { type: 'output', url: `${faker}/sync/create`, method: 'POST', secret: OUTPUT_SECRET },
          ],
          polling: [{ endpoint: `${faker}/music?api_key=${POLL_TOKEN}`, interval: 1, type: 'day', auth: { type: 'bearer', token: POLL_TOKEN } }],
          mappings: EXAMPLE_MAPPINGS,
          transforms: [],
        },
        bearer,
      ),
    );
    expect(org.status).toBe(201);
    const orgId = org.body['id'] as string;
    // Shown once: the input webhook's call URL with its token.
    const callUrlWithToken = org.body['webhooks'][0].callUrlWithToken as string;
    const CALL_TOKEN = new URL(callUrlWithToken).searchParams.get('token') as string;
    // Shown as a hint only, on every read and write.
    expect(org.body['webhooks']).toEqual([
      expect.objectContaining({ type: 'input', hasSecret: true, secretHint: `whsec_…${INPUT_SECRET.slice(-4)}` }),
      expect.objectContaining({ type: 'output', hasSecret: true, secretHint: `whsec_…${OUTPUT_SECRET.slice(-4)}` }),
    ]);
    const fetched = keep(await call('GET', `${config}/organization/${orgId}`, undefined, bearer));
    keep(await call('GET', `${config}/organization`, undefined, bearer));
    expect(keep(await call('PUT', `${config}/organization/${orgId}`, { ...fetched.body, name: 'Round trip' }, bearer)).status).toBe(200);
    // A refused secret is not echoed back.
    const refused = keep(await call('PATCH', `${config}/organization/${orgId}`, { webhooks: [{ type: 'output', url: `${faker}/sync/create`, method: 'POST', secret: 'secret-x1' }] }, bearer));
    expect(refused.status).toBe(400);
    expect(refused.text).not.toContain('secret-x1');

    // A delivery signed with the output secret, refused once by the third party, then verified and applied.
    await call('PUT', `${faker}/_faults`, { target: 'sync', failNext: 1, status: 500 });
    expect((await call('POST', `${inventory}/inventory`, { externalId: 'local-1', name: 'N', artist: 'A', album: 'B' }, { ...bearer, 'x-organization-id': orgId })).status).toBe(201);
    await eventually(async () => (await call('GET', `${faker}/sync/received`)).body['applied'] === 1, 'the signed delivery to be verified and applied', 20000);

    // Input webhooks: a valid signature is accepted, a forged one refused.
    const body = JSON.stringify({ id: 'remote-1', name: 'R', artist: 'A', album: 'B' });
    const now = new Date();
    const good = { 'webhook-id': 'msg-1', 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': new Webhook(INPUT_SECRET).sign('msg-1', now, body) };
    expect(keep(await call('POST', `${integration}/sync?orgId=${orgId}`, body, good)).status).toBe(202);
    expect(keep(await call('POST', `${integration}/sync?orgId=${orgId}`, body, { ...good, 'webhook-signature': new Webhook(OUTPUT_SECRET).sign('msg-1', now, body) })).status).toBe(401);
    // And by the token in the URL it was given.
    expect(keep(await call('POST', callUrlWithToken.replace('http://localhost:3003', integration), JSON.stringify({ id: 'remote-2', name: 'R', artist: 'A', album: 'B' }))).status).toBe(202);
    expect(keep(await call('POST', `${config}/organization/${orgId}/sync`, {}, bearer)).status).toBe(202);
    await eventually(async () => ((await call('GET', `${inventory}/inventory/organization/${orgId}`, undefined, bearer)).body['items'] ?? []).length === 5, 'the poll and the input webhooks', 20000);
    keep(await call('GET', `${integration}/organization/${orgId}/deliveries`, undefined, bearer));
    keep(await call('GET', `${integration}/organization/${orgId}/sync-runs`, undefined, bearer));
    keep(await call('GET', `${auth}/auth/me`, undefined, bearer));

    const privateKeyBody = KEYS.JWT_PRIVATE_KEY.split('\n')[5] as string;
    const secrets = [privateKeyBody, SECRETS_KEY, ...formsOf(INPUT_SECRET), ...formsOf(OUTPUT_SECRET), CALL_TOKEN, POLL_TOKEN, PASSWORD, token, token.split('.')[2] as string];
    for (const [name, app] of Object.entries(stack.apps)) {
      const log = app.output.join('');
      // The logs are really there: requests at debug/http level, and the delivery retried.
      expect(log.length).toBeGreaterThan(200);
      for (const secret of secrets) if (log.includes(secret)) throw new Error(`${name} logged a secret (${secret.slice(0, 6)}...)`);
    }
    expect(stack.apps['music-integration'].output.join('')).toMatch(/delivery attempt failed/);
    // Every answer but the two that hand them out (sign-in: the access token; create: the call URL token).
    for (const answer of answers) for (const secret of secrets.filter((s) => s !== token && s !== CALL_TOKEN)) expect(answer).not.toContain(secret);
    for (const answer of answers.slice(3)) expect(answer).not.toContain(CALL_TOKEN);
  });
});
