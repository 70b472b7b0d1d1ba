import { Writable } from 'node:stream';
import request from 'supertest';
import winston from 'winston';
import { createLogger, createMetrics, type Metrics } from '@music/platform';
import { JOB_NAMES, jobIds } from '@music/queue';
import { eventually } from '@music/testing';
import { INTEGRATION, type IntegrationDeps } from '../container';
import { IntegrationHarness } from '../integration.test-harness';

/** The harness with the engine and the app sharing one metrics registry, and a logger whose lines are kept. */
class MeteredHarness extends IntegrationHarness {
  metrics: Metrics = createMetrics({ service: 'music-integration' });
  lines: Array<Record<string, unknown>> = [];
  logger = createLogger({ service: 'music-integration', level: 'debug', format: 'json' });

  constructor() {
    super();
    this.logger.clear();
    const lines = this.lines;
    this.logger.add(
      new winston.transports.Stream({
        stream: new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
            done();
          },
        }),
      }),
    );
  }

  protected override runtimeDeps(): IntegrationDeps {
    return { ...super.runtimeDeps(), logger: this.logger, metrics: this.metrics };
  }

  /** The app resolved from the container serves the same registry. */
  async meteredStart(): Promise<this> {
    return this.start();
  }
}

/** One sample's value in the exposition text (labels in any order), or 0 when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const line = text
    .split('\n')
    .find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

const song = (id: string) => ({ id, name: `Song ${id}`, artist: 'Artist', album: 'Album' });

describe('integration metrics and job log context (real store, real Redis, stub third party)', () => {
  let h: MeteredHarness;
  beforeEach(async () => {
    h = await new MeteredHarness().meteredStart();
  });
  afterEach(async () => h.stop());

  const scrape = async (): Promise<string> => {
    const res = await request(h.app).get('/metrics');
    expect(res.status).toBe(200);
    return res.text;
  };

  it('counts poll runs by status and their records by outcome', async () => {
    const org = await h.createOrganization();
    h.thirdParty.put(song('1'), song('2'), song('3'), { id: '4', name: 'No artist or album' });
    await h.pollNow(org.id);
    h.thirdParty.put({ ...song('1'), name: 'Renamed' });
    await h.pollNow(org.id);

    const text = await scrape();
    expect(sample(text, 'music_sync_runs_total', { status: 'succeeded' })).toBe(2);
    expect(sample(text, 'music_sync_records_total', { source: 'poll', outcome: 'created' })).toBe(3);
    expect(sample(text, 'music_sync_records_total', { source: 'poll', outcome: 'invalid' })).toBe(2);
    expect(sample(text, 'music_sync_records_total', { source: 'poll', outcome: 'updated' })).toBe(1);
    expect(sample(text, 'music_sync_records_total', { source: 'poll', outcome: 'unchanged' })).toBe(2);
  });

  it('counts a failed fetch as a failed run', async () => {
    const org = await h.createOrganization();
    h.thirdParty.failures.music = { count: 1, status: 404 };
    await h.pollNow(org.id);
    expect(sample(await scrape(), 'music_sync_runs_total', { status: 'failed' })).toBe(1);
  });

  it('counts records an input webhook applied', async () => {
    const org = await h.createOrganization();
    const res = await request(h.app).post(`/sync?orgId=${org.id}`).send([song('w1'), song('w2')]);
    expect(res.status).toBe(202);
    await eventually(async () => sample(await scrape(), 'music_sync_records_total', { source: 'webhook', outcome: 'created' }) === 2, 'the webhook records to be counted');
  });

  it('counts delivery attempts by result and observes the delivery latency', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    h.thirdParty.failures.sync = { count: 2, status: 503 };
    await h.createLocal(org.id, 'local-1', { name: 'Mine', artist: 'A', album: 'B' });
    await eventually(async () => h.thirdParty.deliveries.some((d) => d.status === 200), 'the delivery to get through');
    await h.drainOutput();

    const text = await scrape();
    expect(sample(text, 'music_delivery_attempts_total', { result: 'retry' })).toBe(2);
    expect(sample(text, 'music_delivery_attempts_total', { result: 'succeeded' })).toBe(1);
    expect(sample(text, 'music_delivery_latency_seconds_count')).toBe(1);
    // Two retries with a 50 ms base backoff: the latency includes them.
    expect(sample(text, 'music_delivery_latency_seconds_sum')).toBeGreaterThan(0.05);
  });

  it('counts a permanent failure, and dead letters when attempts run out', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    h.thirdParty.failures.sync = { count: 1, status: 400 };
    await h.createLocal(org.id, 'refused', { name: 'x', artist: 'y', album: 'z' });
    await eventually(async () => sample(await scrape(), 'music_delivery_attempts_total', { result: 'failed' }) === 1, 'the permanent failure');

    h.thirdParty.failures.sync = { count: 100, status: 500 };
    await h.createLocal(org.id, 'never', { name: 'x', artist: 'y', album: 'z' });
    await eventually(async () => sample(await scrape(), 'music_delivery_attempts_total', { result: 'dead_lettered' }) === 1, 'the dead letter', 20000);
    // DELIVERY_ATTEMPTS is 5 in the harness.
    expect(sample(await scrape(), 'music_delivery_attempts_total', { result: 'retry' })).toBe(5);
    // Both items diverged (kept as they are, listed, counted), until resolved.
    const text = await scrape();
    expect(sample(text, 'music_sync_divergences_total', { event: 'diverged' })).toBe(2);
    expect(sample(text, 'music_sync_diverged_items')).toBe(2);
    const accepted = await request(h.app).post(`/organization/${org.id}/divergences/refused/accept-remote`).set('authorization', `Bearer ${h.token()}`);
    expect(accepted.status).toBe(200);
    expect(sample(await scrape(), 'music_sync_divergences_total', { event: 'resolved' })).toBe(1);
  });

  it('reports the depth of every queue by state, read from Redis when scraped', async () => {
    const org = await h.createOrganization();
    await h.queues.polling.add(JOB_NAMES.poll, { version: 1, organizationId: org.id, pollingId: 'nope', trigger: 'schedule' }, { jobId: 'held', delay: 60_000 });
    const text = await scrape();
    for (const queue of ['polling', 'output', 'inbound', 'maintenance']) {
      expect(text).toMatch(new RegExp(`^music_queue_jobs\\{[^}]*queue="${queue}"[^}]*state="waiting"[^}]*\\} \\d+$`, 'm'));
    }
    expect(sample(text, 'music_queue_jobs', { queue: 'polling', state: 'delayed' })).toBe(1);
  });

  it('reports what operators alert on: poll-run duration, time since the last success, the oldest waiting job per queue, the outbox, pending deliveries and dead letters', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    const entry = org.polling[0];
    if (!entry) throw new Error('no polling entry');
    h.thirdParty.put(song('1'));
    await h.use(INTEGRATION.runPoll).execute({ job: { version: 1, organizationId: org.id, pollingId: entry.id, trigger: 'manual' }, ensureRunId: async () => undefined, lastAttempt: true });
    h.thirdParty.failures.music = { count: 1, status: 404 };
    await h.use(INTEGRATION.runPoll).execute({ job: { version: 1, organizationId: org.id, pollingId: entry.id, trigger: 'manual' }, ensureRunId: async () => undefined, lastAttempt: true });
    h.thirdParty.failures.sync = { count: 1, status: 400 };
    await h.createLocal(org.id, 'refused', { name: 'x', artist: 'y', album: 'z' });
    await h.drainOutput();
    // A job waiting in a queue nobody works, and a local change not fanned out yet (read before the sweeper's grace ends).
    // (An organization that does not exist: nothing to reconcile if the worker takes one before it pauses; it takes one at most.)
    await h.runtime.workers?.workers.find((w) => w.name === 'org-events')?.pause(true);
    for (const revision of [1, 2]) await h.queues.orgEvents.add('org-changed', { version: 1, organizationId: 'nobody', kind: 'updated', revision }, { jobId: `stuck-${revision}` });
    await h.createLocal(org.id, 'waiting', { name: 'x', artist: 'y', album: 'z' }, false);
    await new Promise((r) => setTimeout(r, 200));

    const text = await scrape();
    expect(sample(text, 'music_poll_run_duration_seconds_count', { status: 'succeeded' })).toBe(1);
    expect(sample(text, 'music_poll_run_duration_seconds_count', { status: 'failed' })).toBe(1);
    expect(sample(text, 'music_sync_seconds_since_last_success')).toBeGreaterThan(0);
    expect(sample(text, 'music_outbox_pending_events')).toBe(1);
    expect(sample(text, 'music_deliveries_pending')).toBe(0);
    expect(sample(text, 'music_deliveries_dead_lettered')).toBe(1);
    for (const queue of ['polling', 'output', 'inbound', 'maintenance', 'org-events', 'notifications']) {
      expect(text).toMatch(new RegExp(`^music_queue_oldest_waiting_seconds\\{[^}]*queue="${queue}"[^}]*\\} [\\d.e+-]+$`, 'm'));
    }
    expect(sample(text, 'music_queue_oldest_waiting_seconds', { queue: 'org-events' })).toBeGreaterThan(0.1);
    expect(sample(text, 'music_queue_oldest_waiting_seconds', { queue: 'output' })).toBe(0);
    // No organization or entry id in any label.
    expect(text).not.toContain(org.id);
    expect(text).not.toContain(entry.id);
  });

  it('times the HTTP routes by pattern and status', async () => {
    const org = await h.createOrganization();
    await request(h.app).get(`/organization/${org.id}/sync-runs`).set('authorization', `Bearer ${h.token()}`);
    await request(h.app).get(`/organization/${org.id}/sync-runs`);
    const text = await scrape();
    expect(sample(text, 'http_request_duration_seconds_count', { route: '/organization/:id/sync-runs', status: '200' })).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count', { route: '/organization/:id/sync-runs', status: '401' })).toBe(1);
    expect(text).not.toContain(org.id);
  });

  it('stamps every log line of a poll job and a delivery job with the org id and job id (and the delivery id)', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    const entry = org.polling[0];
    if (!entry) throw new Error('no polling entry');
    h.thirdParty.put(song('1'));
    const run = await h.runs.createQueued(org.id, entry, 'manual');
    await h.queues.polling.add(JOB_NAMES.poll, { version: 1, organizationId: org.id, pollingId: entry.id, trigger: 'manual', runId: run.id }, { jobId: jobIds.manualPoll(run.id) });
    await eventually(async () => h.lines.some((l) => l['message'] === 'poll finished'), 'the poll job');

    // The fan-out makes the first attempt; its deliver job the next two.
    h.thirdParty.failures.sync = { count: 2, status: 503 };
    const item = await h.createLocal(org.id, 'local-1', { name: 'Mine', artist: 'A', album: 'B' });
    await eventually(async () => h.lines.some((l) => l['message'] === 'delivered'), 'the delivery job');
    await h.drainOutput();

    const poll = h.lines.find((l) => l['message'] === 'poll finished');
    expect(poll).toMatchObject({ orgId: org.id, jobId: jobIds.manualPoll(run.id), runId: run.id });
    const eventId = item.pendingEvent?.id ?? '';
    const deliveryId = `${eventId}_${org.webhooks[0]?.id}`;
    const deliveryLines = h.lines.filter((l) => l['message'] === 'delivery attempt failed' || l['message'] === 'delivered');
    expect(deliveryLines).toHaveLength(3);
    expect(deliveryLines[0]).toMatchObject({ message: 'delivery attempt failed', orgId: org.id, jobId: jobIds.fanout(eventId), deliveryId });
    for (const line of deliveryLines.slice(1)) expect(line).toMatchObject({ orgId: org.id, jobId: jobIds.deliver(deliveryId), deliveryId });
    // The worker's own line about the failed attempt (written outside the job) names them too.
    expect(h.lines.filter((l) => l['message'] === 'job failed')).toEqual([
      expect.objectContaining({ queue: 'output', orgId: org.id, jobId: jobIds.deliver(deliveryId), deliveryId }),
    ]);
    // One search by org id finds the poll and both delivery attempts.
    const byOrg = h.lines.filter((l) => l['orgId'] === org.id).map((l) => l['message']);
    expect(byOrg).toEqual(expect.arrayContaining(['poll finished', 'delivery attempt failed', 'delivered']));
  });
});
