import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import request from 'supertest';
import { exampleOrganization } from '@music/domain';
import { closeServer, listen } from '@music/platform';
import { baseUrlOf, eventually, testLogger } from '@music/testing';
import { createConsoleApp } from '../../apps/music-console/src/app';
import { loadConsoleConfig } from '../../apps/music-console/src/config';
import type { FakerState } from '../../apps/music-faker/src/app';
import { InProcessSystem } from '../security/in-process-system';
import { CHROMIUM, launchChromium } from './headless-chromium';

// The console in headless Chromium (Debian's package, driven by playwright-core; launched by
// headless-chromium.ts), in front of the real apps in-process on the real store and Redis,
// with the faker as the third party: a person signs up, creates an organization, syncs it, reads
// its runs, replays a failed delivery and previews the mapping. `UPDATE_SCREENSHOTS=1` also writes
// the README's picture (docs/console-runs.png).

jest.setTimeout(180_000);

const NAMESPACE = 'console-e2e';
const SCREENSHOT = path.resolve(__dirname, '..', '..', 'docs', 'console-runs.png');

describe('the web console in a real browser (headless Chromium)', () => {
  let system: InProcessSystem;
  const servers: Server[] = [];
  let consoleUrl: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let thirdParty: FakerState;
  let thirdPartyUrl: string;
  const problems: string[] = [];
  const offLoopback: string[] = [];
  const user = { email: `console-${Date.now()}@test.com`, password: 'a-long-password' };
  let orgId = '';

  beforeAll(async () => {
    expect(existsSync(CHROMIUM)).toBe(true);
    system = await InProcessSystem.open({ env: { MANUAL_SYNC_RATE_LIMIT_PER_MINUTE: '100' } });
    const urls: Record<string, string> = {};
    for (const name of ['music-config', 'music-auth', 'music-inventory', 'music-integration'] as const) {
      const server = await listen(system.apps[name], 0, '127.0.0.1');
      servers.push(server);
      urls[name] = baseUrlOf(server);
    }
    const consoleApp = createConsoleApp({
      config: loadConsoleConfig({
        NODE_ENV: 'test',
        CONFIG_API_URL: urls['music-config'],
        AUTH_API_URL: urls['music-auth'],
        INVENTORY_API_URL: urls['music-inventory'],
        INTEGRATION_API_URL: urls['music-integration'],
      }),
      logger: testLogger(),
    });
    const consoleServer = await listen(consoleApp, 0, '127.0.0.1');
    servers.push(consoleServer);
    consoleUrl = baseUrlOf(consoleServer);
    const ns = system.faker.namespaces.get(NAMESPACE);
    if (!ns) throw new Error('no namespace');
    thirdParty = ns;
    thirdPartyUrl = `${system.faker.baseUrl}/ns/${NAMESPACE}`;

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1200, height: 860 } });
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      offLoopback.push(url.href);
      return route.abort();
    });
    page = await context.newPage();
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => void (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (400|401|404|409|429)/.test(m.text()) && problems.push(`console: ${m.text()}`)));
  });

  afterAll(async () => {
    await browser?.close();
    for (const server of servers) await closeServer(server);
    await system?.close();
  });

  const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name });
  /** Evaluates an expression in the page (a string: this project's types have no DOM). */
  const inPage = <T = unknown>(expression: string): Promise<T> => page.evaluate(expression) as Promise<T>;

  /** The runs table's rows, newest first, once `n` runs are listed and the newest has finished. */
  async function runsListed(n: number): Promise<string[]> {
    const rows = page.locator('table.runs tbody tr');
    await eventually(async () => (await rows.count()) === n && /succeeded|failed|partial|attention|skipped/.test(await rows.first().locator('.badge').innerText()), `${n} finished runs in the table`, 30000, 200);
    return rows.allInnerTexts();
  }

  async function syncNow(expectedRuns: number): Promise<string> {
    await page.getByRole('button', { name: 'Sync now' }).click();
    const rows = await runsListed(expectedRuns);
    return rows[0] ?? '';
  }

  it('signs a new user up, and sends them to their (empty) list of organizations', async () => {
    await page.goto(consoleUrl);
    await heading('Sign in').waitFor();
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await heading('Organizations').waitFor();
    await page.getByText('No organization yet').waitFor();
    // The heading has the focus: keyboard and screen-reader users start there.
    expect(await inPage<string>('document.activeElement?.tagName')).toBe('H1');
  });

  it('refuses a wrong password with the API’s message, and signs in with the keyboard', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading('Sign in').waitFor();
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByLabel('Password').press('Enter');
    await page.getByRole('alert').filter({ hasText: /invalid|incorrect|wrong/i }).waitFor();
    await page.getByLabel('Password').fill(user.password);
    await page.getByLabel('Password').press('Enter');
    await heading('Organizations').waitFor();
  });

  it('creates an organization from the example, pointed at the third party', async () => {
    const textarea = page.getByLabel('Webhooks, polling, mappings and transforms (JSON)');
    // The form starts from the canonical example.
    const { name, synchronization, ...settings } = exampleOrganization();
    void name;
    void synchronization;
    expect(JSON.parse(await textarea.inputValue())).toEqual(settings);
    // Settings that are not JSON are refused before anything is sent.
    await textarea.fill('{ not json');
    await page.getByRole('button', { name: 'Create organization' }).click();
    await page.getByRole('alert').filter({ hasText: 'not valid JSON' }).waitFor();
    // The API's validation errors are shown with their fields.
    await textarea.fill(JSON.stringify({ ...settings, polling: [{ endpoint: 'nowhere', interval: 1, type: 'minute' }] }));
    await page.getByRole('button', { name: 'Create organization' }).click();
    await page.getByRole('alert').filter({ hasText: 'polling.0.endpoint' }).waitFor();

    const ours = exampleOrganization({ thirdParty: thirdPartyUrl, integration: 'http://127.0.0.1:1' });
    const { name: _n, synchronization: _s, ...pointed } = ours;
    void _n;
    void _s;
    await page.getByLabel('Name').fill('Acme Records');
    await textarea.fill(JSON.stringify({ ...pointed, polling: [{ ...pointed.polling[0], type: 'day' }] }, null, 2));
    await page.getByRole('button', { name: 'Create organization' }).click();
    await heading('Acme Records').waitFor();
    orgId = decodeURIComponent(/#\/organizations\/([^/]+)/.exec(page.url())?.[1] ?? '');
    expect(orgId).not.toBe('');
  });

  it('runs a sync and shows the run appear, in the table and on the timeline; several runs read at a glance', async () => {
    // A new organization's polling schedule polls once at once: that run shows up by itself.
    await runsListed(1);
    thirdParty.generate(5);
    expect(await syncNow(2)).toMatch(/manual\s+succeeded.*\s5\s+5\s+0\s+0\s+0/s);

    // A second run: two songs renamed, one gone, one the mapping refuses (no album).
    const songs = thirdParty.list();
    for (const song of songs.slice(0, 2)) thirdParty.upsert({ ...song, name: `${String(song['name'])} (live)` });
    thirdParty.remove(songs[4]?.id ?? '');
    thirdParty.upsert({ id: 'no-album', name: 'Demo tape', artist: 'Nobody' });
    expect(await syncNow(3)).toMatch(/succeeded.*\s5\s+0\s+2\s+1\s+1/s);
    // A run where the third party is down: failed, and marked on the timeline.
    thirdParty.setFaults({ target: 'music', remaining: 1, status: 503, delayMs: 0, retryAfterSeconds: null });
    expect(await syncNow(4)).toMatch(/failed/);
    thirdParty.generate(6);
    expect(await syncNow(5)).toMatch(/succeeded.*\s11\s+6\s+0\s+0\s+1/s);
    thirdParty.generate(3);
    for (const song of thirdParty.list().slice(5, 9)) thirdParty.upsert({ ...song, album: 'Remastered' });
    expect(await syncNow(6)).toMatch(/succeeded/);

    const chart = page.getByRole('img', { name: /Sync runs, oldest on the left/ });
    await chart.waitFor();
    expect(await page.locator('svg.chart g.run').count()).toBe(6);
    expect(await page.locator('svg.chart g.run[data-status="failed"] path').count()).toBe(1);
    // The chart says what it shows to those who cannot see it.
    expect(await page.locator('svg.chart desc').textContent()).toMatch(/^6 runs, 1 failed\. Latest: .*succeeded/);
    // The run that refused a record names it.
    await page.getByText(/1 refused record/).first().click();
    await page.getByText(/no-album/).first().waitFor();

    const shot = process.env['UPDATE_SCREENSHOTS'] === '1' ? SCREENSHOT : path.join(mkdtempSync(path.join(tmpdir(), 'console-')), 'runs.png');
    await inPage("document.querySelectorAll('details').forEach((d) => { d.open = false; }); window.scrollTo(0, 0)");
    await page.screenshot({ path: shot, clip: { x: 0, y: 0, width: 1200, height: 860 } });
    expect(readFileSync(shot).subarray(1, 4).toString('ascii')).toBe('PNG');
  });

  it('lists a failed delivery under its filter, and replays it once the cause is fixed', async () => {
    // The third party refuses our deliveries for now (a 400 is not retried: dead-lettered at once).
    thirdParty.setFaults({ target: 'sync', remaining: null, status: 400, delayMs: 0, retryAfterSeconds: null });
    const token = ((await request(system.apps['music-auth']).post('/auth/sign-in').send(user)).body as { token: string }).token;
    const created = await request(system.apps['music-inventory'])
      .post('/inventory')
      .set('authorization', `Bearer ${token}`)
      .set('x-organization-id', orgId)
      .send({ externalId: 'made-here', name: 'Made Here', artist: 'Us', album: 'Local' });
    expect(created.status).toBe(201);
    await eventually(async () => {
      const res = await request(system.apps['music-integration']).get(`/organization/${orgId}/deliveries?status=failed`).set('authorization', `Bearer ${token}`);
      return (res.body as { items: unknown[] }).items.length === 1;
    }, 'the delivery to be dead-lettered', 20000);

    await page.getByRole('link', { name: 'Deliveries' }).click();
    await heading('Acme Records').waitFor();
    await page.getByRole('heading', { level: 2, name: 'Deliveries' }).waitFor();
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Apply' }).click();
    const row = page.locator('table.deliveries tbody tr').filter({ hasText: 'made-here' });
    await row.getByText('failed', { exact: true }).waitFor();
    await row.getByText('HTTP 400').waitFor();

    thirdParty.clearFaults();
    await row.getByRole('button', { name: 'Replay the delivery of made-here' }).click();
    await page.getByRole('status').filter({ hasText: 'Replay of made-here queued' }).waitFor();
    await eventually(async () => thirdParty.get('made-here') !== undefined, 'the replayed delivery to arrive', 20000);
    await page.getByLabel('Status').selectOption('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('table.deliveries tbody tr').filter({ hasText: 'made-here' }).getByText('succeeded', { exact: true }).waitFor();
    await page.getByLabel('Record (externalId)').fill('nothing-like-this');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('No delivery matches.').waitFor();
  });

  it('previews the mapping beside the third party’s records, from the endpoint and from a pasted sample', async () => {
    await page.getByRole('link', { name: 'Mapping preview' }).click();
    await page.getByRole('heading', { level: 2, name: 'Mapping preview' }).waitFor();
    await page.getByRole('button', { name: 'Preview' }).click();
    const summary = page.locator('p.summary');
    await summary.waitFor();
    expect(await summary.innerText()).toMatch(/First page of .*\/ns\/console-e2e\/music .*: 1[0-9] records, 1[0-9] map, 1 refused/);
    const refused = page.locator('table.preview tr.refused');
    expect(await refused.count()).toBe(1);
    expect(await refused.innerText()).toMatch(/no-album[\s\S]*album: /);

    await page.getByLabel('A sample I paste').check();
    await page.getByLabel('Sample records (a JSON array)').fill(JSON.stringify([{ id: 's-1', name: 'One', artist: 'A', album: 'B' }, { name: 'no id' }]));
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.locator('p.summary').filter({ hasText: 'Your sample: 2 records, 1 map, 1 refused' }).waitFor();
    expect(await page.locator('table.preview tr.refused').innerText()).toMatch(/externalId: is required/);
  });

  // ---- the sync controls ------------------------------------------------------------------

  async function apiToken(): Promise<string> {
    return ((await request(system.apps['music-auth']).post('/auth/sign-in').send(user)).body as { token: string }).token;
  }

  /** A song created on our side (music-inventory), delivered to the third party by the output webhook. */
  async function createHere(token: string, externalId: string, name: string): Promise<string> {
    const created = await request(system.apps['music-inventory'])
      .post('/inventory')
      .set('authorization', `Bearer ${token}`)
      .set('x-organization-id', orgId)
      .send({ externalId, name, artist: 'Us', album: 'Local' });
    expect(created.status).toBe(201);
    return (created.body as { id: string }).id;
  }

  async function failedDeliveries(token: string): Promise<string[]> {
    const res = await request(system.apps['music-integration']).get(`/organization/${orgId}/deliveries?status=failed`).set('authorization', `Bearer ${token}`);
    return (res.body as { items: Array<{ externalId: string }> }).items.map((d) => d.externalId).sort();
  }

  async function openSection(label: string, h2: string): Promise<void> {
    await page.goto(`${consoleUrl}/#/organizations/${encodeURIComponent(orgId)}`);
    await heading('Acme Records').waitFor();
    await page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: label, exact: true }).click();
    await page.getByRole('heading', { level: 2, name: h2, exact: true }).waitFor();
  }

  /** Answers the confirmation dialog: fills its field (when given) and presses its confirm button. */
  async function confirmDialog(confirm: string, answer?: string): Promise<void> {
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    if (answer !== undefined) await dialog.getByRole('textbox').fill(answer);
    await dialog.getByRole('button', { name: confirm, exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
  }

  it('lists dead letters, and replays every one the filters match in one go once the cause is fixed', async () => {
    const token = await apiToken();
    thirdParty.setFaults({ target: 'sync', remaining: null, status: 400, delayMs: 0, retryAfterSeconds: null });
    await createHere(token, 'bulk-1', 'Bulk One');
    await createHere(token, 'bulk-2', 'Bulk Two');
    await eventually(async () => (await failedDeliveries(token)).join() === 'bulk-1,bulk-2', 'both deliveries dead-lettered', 20000);

    await openSection('Dead letters', 'Dead letters');
    // Deliveries that gave up make the organization `failing`.
    const health = page.locator('.org-head .health .badge');
    await eventually(async () => (await health.count()) === 1 && (await health.innerText()) === 'failing', 'the header to say failing', 10000, 100);
    const rows = page.locator('table.deliveries tbody tr');
    await eventually(async () => (await rows.count()) === 2, 'two dead letters listed', 10000, 200);
    for (const text of await rows.allInnerTexts()) expect(text).toMatch(/bulk-[12][\s\S]*failed[\s\S]*HTTP 400/);
    // Filtered by record: one.
    await page.getByLabel('Record (externalId)').fill('bulk-1');
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(async () => (await rows.count()) === 1, 'one dead letter for bulk-1', 10000, 200);
    await page.getByLabel('Record (externalId)').fill('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await eventually(async () => (await rows.count()) === 2, 'both again', 10000, 200);

    thirdParty.clearFaults();
    await page.getByRole('button', { name: 'Replay all that match…' }).click();
    // Cancelling (Escape) sends nothing.
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    expect(await inPage<string>('document.activeElement?.textContent')).toBe('Replay all that match…');
    expect(thirdParty.get('bulk-1')).toBeUndefined();

    await page.getByRole('button', { name: 'Replay all that match…' }).click();
    await confirmDialog('Replay them');
    await page.getByRole('status').filter({ hasText: '2 dead letters replayed' }).first().waitFor();
    await eventually(async () => thirdParty.get('bulk-1') !== undefined && thirdParty.get('bulk-2') !== undefined, 'the replayed deliveries to arrive', 20000);
    await eventually(async () => (await failedDeliveries(token)).length === 0, 'no dead letter left', 20000);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('No dead letter matches').waitFor();
    await eventually(async () => (await health.innerText()) === 'healthy', 'the header to say healthy again', 10000, 100);
  });

  it('shows diverged items beside what the third party sent meanwhile; accepts theirs, or replays ours', async () => {
    const token = await apiToken();
    thirdParty.setFaults({ target: 'sync', remaining: null, status: 400, delayMs: 0, retryAfterSeconds: null });
    const oursId = await createHere(token, 'ours-a', 'Our A');
    await createHere(token, 'ours-b', 'Our B');
    await eventually(async () => {
      const failed = await failedDeliveries(token);
      return failed.includes('ours-a') && failed.includes('ours-b');
    }, 'both deliveries dead-lettered', 20000);
    // Meanwhile the third party has its own ours-a: the next poll holds it beside ours.
    thirdParty.upsert({ id: 'ours-a', name: 'Their A', artist: 'Them', album: 'Theirs' });
    await openSection('Runs', 'Sync runs');
    await page.locator('table.runs tbody tr').first().waitFor();
    const before = await page.locator('table.runs tbody tr').count();
    await syncNow(before + 1);

    await openSection('Diverged items', 'Diverged items');
    const rowA = page.locator('table.divergences tbody tr').filter({ hasText: 'ours-a' });
    const rowB = page.locator('table.divergences tbody tr').filter({ hasText: 'ours-b' });
    await rowA.waitFor();
    await rowB.waitFor();
    expect(await rowA.innerText()).toMatch(/diverged[\s\S]*Our A[\s\S]*upsert at[\s\S]*Their A[\s\S]*HTTP 400/);
    expect(await rowB.innerText()).toMatch(/nothing since/);

    await rowA.getByRole('button', { name: 'Accept theirs: the third party’s version of ours-a' }).click();
    await confirmDialog('Accept theirs');
    await page.getByRole('status').filter({ hasText: 'ours-a now has the third party’s version' }).waitFor();
    await rowA.waitFor({ state: 'detached' });
    // The focus is not lost with the row: it is on the section's heading.
    expect(await inPage<string>('document.activeElement?.textContent')).toBe('Diverged items');
    const item = await request(system.apps['music-inventory']).get(`/inventory/${oursId}`).set('authorization', `Bearer ${token}`).set('x-organization-id', orgId);
    expect(JSON.stringify(item.body)).toContain('Their A');

    thirdParty.clearFaults();
    await rowB.getByRole('button', { name: 'Replay ours: our change of ours-b' }).click();
    await page.getByRole('status').filter({ hasText: 'Our change of ours-b is being sent again' }).waitFor();
    await eventually(async () => thirdParty.get('ours-b') !== undefined, 'our change of ours-b to arrive', 20000);
    await rowB.waitFor({ state: 'detached' });
  });

  it('rotates a webhook’s secret and shows the new one once; the previous one works for a while', async () => {
    await openSection('Webhooks', 'Webhooks');
    const input = () => page.locator('li.webhook').filter({ hasText: 'Input' });
    const hintBefore = await input().locator('dd').first().innerText();
    await input().getByRole('button', { name: /^Rotate the secret of / }).click();
    await confirmDialog('Rotate the secret');
    const secret = await page.getByLabel('New secret', { exact: true }).inputValue();
    expect(secret).toMatch(/^whsec_/);
    expect(await page.getByLabel('New call URL (with its token)').inputValue()).toMatch(/\/sync\?orgId=.*&token=/);
    // The focus moves to what must be copied now; the webhook shows the new secret's tail.
    expect(await inPage<string>('document.activeElement?.id')).toBe('revealed-heading');
    const hintAfter = await input().locator('dd').first().innerText();
    expect(hintAfter).not.toBe(hintBefore);
    expect(hintAfter).toBe(`whsec_…${secret.slice(-4)}`);
    await input().getByText('still accepted until').waitFor();
    // Shown once: the page read again does not have it.
    await page.reload();
    await page.getByRole('heading', { level: 2, name: 'Webhooks', exact: true }).waitFor();
    expect(await page.content()).not.toContain(secret);
  });

  it('sends a test event to an output webhook and says what the receiver answered', async () => {
    await openSection('Webhooks', 'Webhooks');
    const seen = thirdParty.received.length;
    const output = page.locator('li.webhook').filter({ hasText: 'Output' });
    await output.getByRole('button', { name: /^Send a test event to / }).click();
    const outcome = output.getByRole('status').filter({ hasText: /Test event (delivered|not delivered)/ });
    await outcome.waitFor();
    // What the console says is what the third party saw.
    await eventually(async () => thirdParty.received.length > seen, 'the test event to arrive', 10000);
    const got = thirdParty.received.slice(seen).at(-1);
    expect(await outcome.innerText()).toContain(`HTTP ${got?.status}`);
  });

  it('pauses and resumes the organization and one polling entry, with a reason; the health follows, here and on the list', async () => {
    await openSection('Overview', 'Sync status');
    const health = page.locator('.org-head .health .badge');
    await health.waitFor();
    expect(await health.innerText()).not.toBe('paused');

    await page.getByRole('button', { name: 'Pause syncing…' }).click();
    await confirmDialog('Pause', 'Their API is down until Monday');
    await eventually(async () => (await health.innerText()) === 'paused', 'the header to say paused', 10000, 100);
    await page.locator('.org-head').getByText('Their API is down until Monday').waitFor();
    await page.getByRole('status').filter({ hasText: 'Acme Records: paused. Health: paused.' }).waitFor();
    // The control used is replaced by its opposite, and has the focus.
    expect(await inPage<string>('document.activeElement?.textContent')).toBe('Resume syncing');
    const entry = page.locator('table.entries tbody tr').first();
    // Its entries are paused with it: the organization's Resume is the one that counts.
    expect(await entry.innerText()).toMatch(/paused\s+with the organization/);
    expect(await entry.getByRole('button').count()).toBe(0);
    if (process.env['UPDATE_SCREENSHOTS'] === '1') {
      await inPage('document.activeElement?.blur(); window.scrollTo(0, 0)');
      await page.screenshot({ path: path.resolve(__dirname, '..', '..', 'docs', 'console-overview.png'), clip: { x: 0, y: 0, width: 1200, height: 720 } });
    }

    // The list of organizations shows it too, with the reason.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Organizations' }).click();
    await heading('Organizations').waitFor();
    const listed = page.locator(`tr[data-organization-id="${orgId}"] .health-cell`);
    await listed.getByText('paused', { exact: true }).waitFor();
    expect(await listed.innerText()).toContain('Their API is down until Monday');

    await page.getByRole('link', { name: 'Acme Records' }).click();
    await page.getByRole('heading', { level: 2, name: 'Sync status' }).waitFor();
    await page.getByRole('button', { name: 'Resume syncing' }).click();
    await eventually(async () => (await health.innerText()) !== 'paused', 'the header to leave paused', 10000, 100);
    expect(await inPage<string>('document.activeElement?.textContent')).toBe('Pause syncing…');

    // One entry: paused with its reason, the organization is not.
    await entry.getByRole('button', { name: /^Pause polling of / }).click();
    await confirmDialog('Pause', 'Rate limited');
    await entry.getByText('Rate limited').waitFor();
    expect(await entry.locator('.badge').first().innerText()).toBe('paused');
    await page.getByRole('button', { name: 'Pause syncing…' }).waitFor();
    const token = await apiToken();
    const status = await request(system.apps['music-integration']).get(`/organization/${orgId}/status`).set('authorization', `Bearer ${token}`);
    expect(status.body).toMatchObject({ paused: false, pollingEntries: [{ paused: true, pausedBy: 'entry', pausedReason: 'Rate limited' }] });

    // The organization paused too: the entry's own pause still shows, with its own Resume.
    await page.getByRole('button', { name: 'Pause syncing…' }).click();
    await confirmDialog('Pause', 'Label audit');
    // (The health said paused already: its one entry is.)
    await page.getByRole('button', { name: 'Resume syncing' }).waitFor();
    await entry.getByText('Rate limited').waitFor();
    expect(await entry.innerText()).toContain('the organization is paused too');
    await entry.getByRole('button', { name: /^Resume polling of / }).click();
    // Resumed on its own, it is still held by the organization's pause, whose Resume is the one left.
    await eventually(async () => /paused\s+with the organization/.test(await entry.innerText()), 'the entry to be paused with the organization only', 10000, 100);
    expect(await entry.getByRole('button').count()).toBe(0);
    await page.getByRole('button', { name: 'Resume syncing' }).click();
    await eventually(async () => (await entry.locator('.badge').first().innerText()) === 'active', 'the entry to be active again', 10000, 100);

  });

  it('lists the notification webhooks beside the others', async () => {
    const token = await apiToken();
    const patched = await request(system.apps['music-config'])
      .patch(`/organization/${orgId}`)
      .set('authorization', `Bearer ${token}`)
      .send({ notifications: [{ url: `${thirdPartyUrl}/notify`, events: ['sync.failed', 'delivery.dead_lettered'] }] });
    expect(patched.status).toBe(200);
    await openSection('Webhooks', 'Webhooks');
    const section = page.getByRole('region', { name: 'Notification webhooks' });
    await section.getByText(`${thirdPartyUrl}/notify`).waitFor();
    expect(await section.innerText()).toMatch(/sync\.failed[\s\S]*delivery\.dead_lettered[\s\S]*whsec_…/);
  });

  it('works on a server that does not report sync status: no health, every other section as before', async () => {
    // An integration API without the status route answers 404 there.
    const noStatus = '**/api/integration/organization/*/status';
    await page.route(noStatus, (route) => route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ error: { code: 'NOT_FOUND', message: 'No route for GET /organization/x/status' } }) }));
    try {
      await page.goto(`${consoleUrl}/#/`);
      await heading('Organizations').waitFor();
      await page.locator(`tr[data-organization-id="${orgId}"] .health-cell`).getByText('not reported').waitFor();
      await page.getByRole('link', { name: 'Acme Records' }).click();
      await page.getByRole('heading', { level: 2, name: 'Sync status' }).waitFor();
      await page.getByText('This server does not report sync status.').waitFor();
      expect(await page.locator('.org-head .health .badge').count()).toBe(0);
      await page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Runs', exact: true }).click();
      await page.locator('table.runs tbody tr').first().waitFor();
    } finally {
      await page.unroute(noStatus);
    }
  });

  it('is usable with labels and the keyboard: every control has a name, and focus moves through the page', async () => {
    for (const section of ['overview', 'runs', 'deliveries', 'dead-letters', 'diverged', 'webhooks', 'preview']) {
      await page.goto(`${consoleUrl}/#/organizations/${encodeURIComponent(orgId)}/${section}`);
      await heading('Acme Records').waitFor();
      await page.locator('.section-body h2').waitFor();
      const unnamed = await inPage<string[]>(`[...document.querySelectorAll('input, select, textarea, button')]
        .filter((el) => !((el.labels && el.labels.length > 0) || el.getAttribute('aria-label') || (el.tagName === 'BUTTON' && el.textContent.trim())))
        .map((el) => el.outerHTML.slice(0, 80))`);
      expect([section, unnamed]).toEqual([section, []]);
    }
    // The skip link comes first in the tab order and moves the focus to the page's content.
    await page.goto(`${consoleUrl}/#/`);
    await heading('Organizations').waitFor();
    const firstInTabOrder = `[...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')].filter((el) => el.tabIndex >= 0)[0].textContent`;
    expect(await inPage<string>(firstInTabOrder)).toBe('Skip to content');
    await page.getByRole('link', { name: 'Skip to content' }).focus();
    await page.keyboard.press('Enter');
    expect(await inPage<string>('document.activeElement?.id')).toBe('main');
    await page.keyboard.press('Tab');
    expect(await inPage<string>('document.activeElement?.textContent')).toBe('Acme Records');
    await page.keyboard.press('Enter');
    await heading('Acme Records').waitFor();
  });

  it('raised no script error or policy violation, and sent nothing off loopback', () => {
    expect(problems).toEqual([]);
    expect(offLoopback).toEqual([]);
  });
});
