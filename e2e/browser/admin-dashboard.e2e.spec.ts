import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { type Browser, type BrowserContext } from 'playwright-core';
import { closeServer, listen } from '@music/platform';
import { baseUrlOf } from '@music/testing';
import { JOB_NAMES } from '@music/queue';
import { IntegrationHarness } from '../../apps/music-integration/src/integration.test-harness';
import { CHROMIUM, launchChromium } from './headless-chromium';

const ADMIN = { username: 'ops', password: 'browser-test-password' };
const QUEUES = ['polling', 'output', 'inbound', 'maintenance'];

describe('in a real browser (headless Chromium): the queue dashboard and the API docs', () => {
  let h: IntegrationHarness;
  let server: Server;
  let baseUrl: string;
  let browser: Browser;
  /** Every request a page tried to send off loopback (aborted). */
  const offLoopback: string[] = [];

  beforeAll(async () => {
    expect(existsSync(CHROMIUM)).toBe(true);
    h = await new IntegrationHarness().start({ ADMIN_USER: ADMIN.username, ADMIN_PASSWORD: ADMIN.password });
    server = await listen(h.app, 0, '127.0.0.1');
    baseUrl = baseUrlOf(server);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    if (server) await closeServer(server);
    await h?.stop();
  });

  async function contextWith(options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
    const context = await browser.newContext(options);
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      offLoopback.push(url.href);
      return route.abort();
    });
    return context;
  }

  it('answers 401 without the admin login, and with a wrong one', async () => {
    const anonymous = await contextWith();
    try {
      // The browser is challenged (401 + WWW-Authenticate: Basic); with no login to give, the navigation fails.
      const page = await anonymous.newPage();
      await expect(page.goto(`${baseUrl}/admin/queues`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
      const direct = await anonymous.request.get(`${baseUrl}/admin/queues`);
      expect(direct.status()).toBe(401);
      expect(direct.headers()['www-authenticate']).toMatch(/^Basic realm=/);
    } finally {
      await anonymous.close();
    }
    const wrong = await contextWith({ httpCredentials: { username: ADMIN.username, password: 'not-the-password' } });
    try {
      const page = await wrong.newPage();
      const response = await page.goto(`${baseUrl}/admin/queues`);
      expect(response?.status()).toBe(401);
      expect(await page.content()).not.toContain('id="root"');
    } finally {
      await wrong.close();
    }
  });

  it('lists every queue once logged in, with a waiting job shown under its queue', async () => {
    const org = await h.createOrganization();
    await h.queues.polling.add(JOB_NAMES.poll, { version: 1, organizationId: org.id, pollingId: 'nope', trigger: 'schedule' }, { jobId: 'browser-visible-job', delay: 10 * 60_000 });
    const context = await contextWith({ httpCredentials: ADMIN });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${baseUrl}/admin/queues`);
      expect(response?.status()).toBe(200);
      // The queue list is rendered by Bull Board's React app from its API (same login).
      for (const queue of QUEUES) await page.getByRole('link', { name: queue, exact: true }).first().waitFor({ timeout: 20000 });
      await expect(page.title()).resolves.toBe('music-sync queues');

      await page.getByRole('link', { name: 'polling', exact: true }).first().click();
      await page.getByText('browser-visible-job').first().waitFor({ timeout: 20000 });
    } finally {
      await context.close();
    }
  });

  it('renders every operation of the API in Swagger UI at /docs', async () => {
    const context = await contextWith();
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
      await page.goto(`${baseUrl}/docs`);
      await page.locator('.opblock-summary-path').first().waitFor({ timeout: 20000 });
      const paths = await page.locator('.opblock-summary-path').allInnerTexts();
      const shown = new Set(paths.map((p) => p.replace(/\u200b/g, '').trim()));
      for (const path of ['/sync', '/organization/{id}/sync-runs', '/organization/{id}/deliveries', '/organization/{id}/deliveries/{deliveryId}/replay', '/metrics']) {
        expect(shown).toContain(path);
      }
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('sent nothing off loopback (the pages ask for no CDN, font or validator)', () => {
    expect(offLoopback).toEqual([]);
  });
});
