import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import request from 'supertest';
import { exampleOrganization } from '@music/domain';
import { closeServer, listen } from '@music/platform';
import { baseUrlOf, eventually, testLogger } from '@music/testing';
import { createConsoleApp } from '../../apps/music-console/src/app';
import { loadConsoleConfig } from '../../apps/music-console/src/config';
import type { FakerState } from '../../apps/music-faker/src/app';
import { InProcessSystem } from '../security/in-process-system';

// The console in headless Chromium (Debian's package, driven by playwright-core; launched as in
// admin-dashboard.e2e.spec.ts), in front of the real apps in-process on the real store and Redis,
// with the faker as the third party: a person signs up, creates an organization, syncs it, reads
// its runs, replays a failed delivery and previews the mapping. `UPDATE_SCREENSHOTS=1` also writes
// the README's picture (docs/console-runs.png).

jest.setTimeout(180_000);

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];
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

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 30000 });
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

  it('is usable with labels and the keyboard: every control has a name, and focus moves through the page', async () => {
    for (const section of ['runs', 'deliveries', 'preview']) {
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
