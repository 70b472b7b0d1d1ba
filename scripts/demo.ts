// `npm run demo`: the walkthrough against a running stack (`npm start`), step by step, printing
// the equivalent curl command and what happened. It ends with one delivery the third party
// refused, for you to fix and replay in the console. Loopback only; URLs can be overridden:
// CONFIG_URL, AUTH_URL, INVENTORY_URL, INTEGRATION_URL, FAKER_URL, CONSOLE_URL.
// DEMO_EMAIL / DEMO_PASSWORD: run it as your own account (the one you signed up with in the
// console), so its organization is in your list; by default a new user is made.

import { exampleOrganization } from '@music/domain';

const env = (name: string, fallback: string): string => process.env[name] ?? fallback;
const CONFIG = env('CONFIG_URL', 'http://localhost:3000');
const AUTH = env('AUTH_URL', 'http://localhost:3001');
const INVENTORY = env('INVENTORY_URL', 'http://localhost:3002');
const INTEGRATION = env('INTEGRATION_URL', 'http://localhost:3003');
const FAKER = env('FAKER_URL', 'http://localhost:5000');
const CONSOLE = env('CONSOLE_URL', 'http://localhost:8080');

type Json = Record<string, unknown>;

let stepNo = 0;
function step(title: string): void {
  stepNo++;
  process.stdout.write(`\n\x1b[1m${stepNo}. ${title}\x1b[0m\n`);
}

function curlOf(method: string, url: string, body: unknown, headers: Record<string, string>): string {
  const parts = [`curl -s -X ${method} '${url}'`];
  for (const [k, v] of Object.entries(headers)) parts.push(`-H '${k}: ${v}'`);
  if (body !== undefined) parts.push(`-H 'content-type: application/json' -d '${JSON.stringify(body)}'`);
  return parts.join(' \\\n    ');
}

async function call<T = Json>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}, accept: number[] = []): Promise<{ status: number; body: T }> {
  const shown = { ...headers };
  if (shown['authorization']) shown['authorization'] = 'Bearer $TOKEN';
  process.stdout.write(`   \x1b[2m$ ${curlOf(method, url, body, shown)}\x1b[0m\n`);
  const res = await fetch(url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const parsed = (text ? JSON.parse(text) : {}) as T;
  process.stdout.write(`   -> ${res.status}\n`);
  if (res.status >= 400 && !accept.includes(res.status)) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return { status: res.status, body: parsed };
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function main(): Promise<void> {
  for (const [name, url] of Object.entries({ CONFIG, AUTH, INVENTORY, INTEGRATION, FAKER })) {
    const ok = await fetch(`${url}/health/live`).then((r) => r.ok).catch(() => false);
    if (!ok) throw new Error(`${name} is not answering at ${url}: start the stack first with \`npm start\``);
  }

  const email = process.env['DEMO_EMAIL'] || `demo-${Date.now()}@test.com`;
  // The faker's namespace of this run: its songs and webhook targets mix with no other run's.
  const THIRD_PARTY = `${FAKER}/ns/demo-${Date.now().toString(36)}`;
  const password = process.env['DEMO_PASSWORD'] || '12345678';
  step(process.env['DEMO_EMAIL'] ? `Create the user ${email} (409: it exists already, fine)` : 'Create a user');
  await call('POST', `${AUTH}/auth/sign-up`, { email, password }, {}, process.env['DEMO_EMAIL'] ? [409] : []);
  step('Sign in');
  const { body: session } = await call<{ token: string }>('POST', `${AUTH}/auth/sign-in`, { email, password });
  const auth = { authorization: `Bearer ${session.token}` };
  console.log(`   token: ${session.token.slice(0, 24)}...`);

  step('Create an organization with the example mapping (polling the faker, delivering to it)');
  const { body: org } = await call<{ id: string; webhooks: Array<{ type: string; method: string; callUrl?: string; secret?: string }> }>(
    'POST',
    `${CONFIG}/organization`,
    { ...exampleOrganization({ thirdParty: THIRD_PARTY, integration: INTEGRATION }), name: 'Demo organization' },
    auth,
  );
  console.log(`   organization id: ${org.id}`);

  // Its call URL and secret are in the create answer, shown this once: the faker signs its calls
  // with the secret (Standard Webhooks), as production requires.
  step('Tell the faker to call our input webhook, signed with its secret, when it deletes a song');
  const input = org.webhooks.find((w) => w.type === 'input' && w.method === 'DELETE');
  if (!input?.callUrl || !input.secret) throw new Error('the organization has no DELETE input webhook with its call URL and secret');
  await call('POST', `${THIRD_PARTY}/config/targets`, { event: 'remove', url: input.callUrl, secret: input.secret });
  console.log(`   ${input.callUrl} (signed with the webhook's secret)`);

  step('Generate 5 fake songs at the third party');
  const { body: songs } = await call<Array<{ id: string; name: string; artist: string }>>('POST', `${THIRD_PARTY}/music/generate`, { count: 5 });
  for (const s of songs) console.log(`   - ${s.name} by ${s.artist} (${s.id})`);

  step('Sync now (instead of waiting for the one-minute schedule) and watch the run');
  const { body: sync } = await call<{ runs: Array<{ id: string }> }>('POST', `${CONFIG}/organization/${org.id}/sync`, {}, auth);
  const runId = sync.runs[0]?.id;
  const run = await waitFor('the sync run', async () => {
    const res = await fetch(`${INTEGRATION}/organization/${org.id}/sync-runs/${runId}`, { headers: auth });
    const body = (await res.json()) as { status: string; counts: Json };
    process.stdout.write(`   run ${runId}: ${body.status} ${JSON.stringify(body.counts)}\n`);
    return ['succeeded', 'failed', 'partial', 'attention', 'skipped'].includes(body.status) ? body : undefined;
  });
  console.log(`   finished: ${run.status}`);

  const list = async (): Promise<Array<Json>> => {
    const res = await fetch(`${INVENTORY}/inventory/organization/${org.id}?limit=200`, { headers: auth });
    return ((await res.json()) as { items: Json[] }).items;
  };
  step('Our inventory now holds the songs');
  await call('GET', `${INVENTORY}/inventory/organization/${org.id}`, undefined, auth);
  for (const item of await list()) console.log(`   - ${String(item['name'])} by ${String(item['artist'])} [origin ${String((item['sync'] as Json)['origin'])}]`);

  const victim = songs[0];
  if (!victim) throw new Error('the faker generated nothing');
  step(`Delete "${victim.name}" at the third party: its webhook removes it from our inventory`);
  await call('DELETE', `${THIRD_PARTY}/music/${victim.id}`);
  await waitFor('the inbound delete', async () => ((await list()).some((i) => i['externalId'] === victim.id) ? undefined : true), 10000);
  console.log(`   inventory now has ${(await list()).length} songs`);

  step('Create a song in our inventory: it is delivered to the third party');
  await call('POST', `${INVENTORY}/inventory`, { externalId: `demo-${Date.now()}`, name: 'Made Here', artist: 'The Demo', album: 'Local' }, { ...auth, 'x-organization-id': org.id });
  const delivered = await waitFor('the delivery', async () => {
    const all = (await (await fetch(`${THIRD_PARTY}/music`)).json()) as Array<{ name: string }>;
    return all.find((s) => s.name === 'Made Here');
  }, 10000);
  console.log(`   the faker now has "${delivered.name}"`);

  step('See the delivery record (webhook-id, status, attempts)');
  const { body: deliveries } = await call<{ items: Array<{ id: string; status: string; attempts: number }> }>('GET', `${INTEGRATION}/organization/${org.id}/deliveries`, undefined, auth);
  for (const d of deliveries.items) console.log(`   - ${d.id}: ${d.status} after ${d.attempts} attempt(s)`);

  step('The third party starts refusing deliveries (HTTP 400): the next change is dead-lettered');
  await call('PUT', `${THIRD_PARTY}/_faults`, { status: 400, target: 'sync' });
  const refusedId = `demo-refused-${Date.now()}`;
  await call('POST', `${INVENTORY}/inventory`, { externalId: refusedId, name: 'Refused Once', artist: 'The Demo', album: 'Local' }, { ...auth, 'x-organization-id': org.id });
  const deadLetter = await waitFor('the dead letter', async () => {
    const res = await fetch(`${INTEGRATION}/organization/${org.id}/deliveries?status=failed&externalId=${refusedId}`, { headers: auth });
    return ((await res.json()) as { items: Array<{ id: string; lastError: string | null }> }).items[0];
  }, 15000);
  console.log(`   ${deadLetter.id}: failed (${deadLetter.lastError ?? 'refused'})`);

  console.log(`
Done. The organization keeps polling every minute.

Now in the console, ${CONSOLE}, signed in as ${email}${process.env['DEMO_PASSWORD'] ? '' : ` (password ${password})`}:
  - "Demo organization" > Runs: each sync as a bar (created, updated, deleted, failed records); "Sync now" adds one.
  - Deliveries, status "failed": the third party answered HTTP 400 to "Refused Once".
    Fix the cause (here: the third party stops refusing):
      curl -s -X DELETE ${THIRD_PARTY}/_faults
    then press "Replay": the delivery is sent again, with the same webhook-id, and succeeds.
  - Mapping preview: the third party's records beside the items they become.`);
}

main().catch((error: unknown) => {
  console.error(`\ndemo failed: ${(error as Error).message}`);
  process.exit(1);
});
