import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { generateWebhookSecret } from '@music/platform';
import { SyncControlRepository, withEntryIds } from '@music/persistence';
import { jobIds, type PollJob } from '@music/queue';
import { eventually, ThirdPartyStub } from '@music/testing';
import { INTEGRATION } from '../container';
import { IntegrationHarness } from '../integration.test-harness';

// Notifications go to a third party of their own, at this path.
const NOTIFICATIONS_PATH = '/sync/notifications';

/** Every notification the receiver got, verified with the secret (Standard Webhooks' own library), as its parsed payload and webhook-id. */
function verified(receiver: ThirdPartyStub, secret: string): Array<{ id: string; type: string; data: Record<string, unknown> }> {
  const verifier = new Webhook(secret);
  return receiver.deliveries.map((c) => {
    const payload = verifier.verify(c.raw, {
      'webhook-id': String(c.webhookId),
      'webhook-timestamp': String(c.timestamp),
      'webhook-signature': String(c.signature),
    }) as { type: string; data: Record<string, unknown> };
    return { id: String(c.webhookId), type: payload.type, data: payload.data };
  });
}

const song = (id: string) => ({ id, name: `Song ${id}`, artist: 'Artist', album: 'Album' });

describe('sync controls: status, pause/resume, auto-pause, notifications, test events, bulk replay (real store, real Redis)', () => {
  let h: IntegrationHarness;
  let receiver: ThirdPartyStub;
  let receiverUrl: string;
  beforeEach(async () => {
    h = await new IntegrationHarness().start({ AUTO_PAUSE_AFTER_FAILED_RUNS: '2' });
    receiver = await new ThirdPartyStub().start();
    receiverUrl = `${receiver.baseUrl}${NOTIFICATIONS_PATH}`;
  });
  afterEach(async () => {
    await receiver.close();
    await h.stop();
  });

  const auth = () => `Bearer ${h.token()}`;
  const get = (path: string) => request(h.app).get(path).set('authorization', auth());
  const post = (path: string, body: Record<string, unknown> = {}) => request(h.app).post(path).set('authorization', auth()).send(body);

  /** One attempt of a poll job, its last, as the worker runs it: the outcome, or the transient failure. */
  const runPoll = async (job: PollJob) => {
    const result = await h.use(INTEGRATION.runPoll).execute({ job, ensureRunId: async () => undefined, lastAttempt: true });
    return result.isOk() ? result.unwrap() : result.unwrapErr();
  };

  /** One poll job of the organization's first entry as the worker runs it (its last attempt). */
  const poll = async (organizationId: string, trigger: PollJob['trigger'] = 'schedule') => {
    const org = await h.organizations.findById(organizationId);
    const entry = org?.polling[0];
    if (!entry) throw new Error('no polling entry');
    return runPoll({ version: 1, organizationId, pollingId: entry.id, trigger });
  };

  it('reports health, last and next run per polling entry, counts, pending and failed deliveries', async () => {
    const org = await h.createOrganization({}, { schedule: true });
    const entryId = org.polling[0]?.id;
    h.thirdParty.put(song('1'), song('2'));
    await eventually(async () => ((await get(`/organization/${org.id}/status`)).body.pollingEntries[0].lastRun?.status === 'succeeded' ? true : null), 'the scheduled first run');

    const healthy = await get(`/organization/${org.id}/status`);
    expect(healthy.status).toBe(200);
    expect(healthy.body).toMatchObject({
      organizationId: org.id,
      health: 'healthy',
      paused: false,
      pausedReason: null,
      items: { total: 2 },
      deliveries: { pending: 0, deadLettered: 0, failed: 0 },
      divergedItems: 0,
    });
    expect(healthy.body.pollingEntries).toEqual([
      expect.objectContaining({ entryId, url: `${h.thirdParty.baseUrl}/music`, paused: false, consecutiveFailures: 0, lastSuccessAt: expect.any(String), nextRunAt: expect.any(String) }),
    ]);
    expect(healthy.body.pollingEntries[0].lastRun).toMatchObject({ status: 'succeeded', counts: { created: 2 } });
    expect(Date.parse(healthy.body.pollingEntries[0].nextRunAt)).toBeGreaterThan(Date.now());

    h.thirdParty.failures.music = { count: 1, status: 404 };
    await poll(org.id);
    const failing = (await get(`/organization/${org.id}/status`)).body;
    expect(failing.health).toBe('failing');
    expect(failing.pollingEntries[0]).toMatchObject({ consecutiveFailures: 1, lastRun: { status: 'failed' } });

    // A delivery that gave up makes it failing too, after a run that succeeded again.
    await poll(org.id);
    expect((await get(`/organization/${org.id}/status`)).body.health).toBe('healthy');
    h.thirdParty.failPath('/sync/create', 400);
    await h.createLocal(org.id, 'mine', { name: 'n', artist: 'a', album: 'b' });
    await h.drainOutput();
    const withDeadLetter = (await get(`/organization/${org.id}/status`)).body;
    expect(withDeadLetter).toMatchObject({ health: 'failing', deliveries: { pending: 0, failed: 1, deadLettered: 0 }, divergedItems: 1 });

    expect((await request(h.app).get(`/organization/${org.id}/status`).set('authorization', `Bearer ${h.token('intruder')}`)).status).toBe(404);
    expect((await request(h.app).post(`/organization/${org.id}/pause`).set('authorization', `Bearer ${h.token('intruder')}`).send({})).status).toBe(404);
  });

  it('pausing an organization stops its polls and holds its deliveries until resumed; a paused entry alone stops only its polls', async () => {
    const org = await h.createOrganization();
    const entryId = org.polling[0]?.id as string;
    h.thirdParty.put(song('1'));

    const paused = await post(`/organization/${org.id}/pause`, { reason: 'maintenance at the label' });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ health: 'paused', paused: true, pausedReason: 'maintenance at the label', pausedAt: expect.any(String) });
    expect(paused.body.pollingEntries[0]).toMatchObject({ paused: true, nextRunAt: null });

    // Neither a scheduled nor a manual (already queued) run polls: no request reaches the third party.
    expect(await poll(org.id)).toEqual({ kind: 'paused' });
    const queued = await h.runs.createQueued(org.id, org.polling[0] as never, 'manual');
    expect(await runPoll({ version: 1, organizationId: org.id, pollingId: entryId, trigger: 'manual', runId: queued.id })).toEqual({ kind: 'paused' });
    expect(h.thirdParty.musicRequests).toHaveLength(0);
    expect(await h.runs.findForOrganization(org.id, queued.id)).toMatchObject({ status: 'skipped', message: expect.stringContaining('paused') });

    // A local change is fanned out, but its delivery waits: pending, not failed, not sent.
    await h.createLocal(org.id, 'held', { name: 'n', artist: 'a', album: 'b' });
    await eventually(async () => ((await get(`/organization/${org.id}/status`)).body.deliveries.pending === 1 ? true : null), 'the held delivery');
    await new Promise((r) => setTimeout(r, 1500));
    expect(h.thirdParty.deliveries).toHaveLength(0);
    expect((await get(`/organization/${org.id}/deliveries`)).body.items.map((d: { status: string }) => d.status)).toEqual(['pending']);

    const resumed = await post(`/organization/${org.id}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ paused: false, pausedReason: null });
    await eventually(async () => (h.thirdParty.deliveries.length === 1 ? true : null), 'the held delivery sent on resume', 5000);
    await h.drainOutput();
    expect((await get(`/organization/${org.id}/deliveries`)).body.items.map((d: { status: string }) => d.status)).toEqual(['succeeded']);
    expect(await poll(org.id)).toMatchObject({ kind: 'done', status: 'succeeded' });

    // One entry paused: its polls stop, the organization's deliveries go on.
    const entryPaused = await post(`/organization/${org.id}/pause`, { entryId, reason: 'endpoint moving' });
    expect(entryPaused.body).toMatchObject({ paused: false, health: 'paused' });
    expect(entryPaused.body.pollingEntries[0]).toMatchObject({ entryId, paused: true, pausedReason: 'endpoint moving' });
    expect(await poll(org.id)).toEqual({ kind: 'paused' });
    await h.updateLocal(org.id, 'held', { name: 'n2', artist: 'a', album: 'b' });
    await eventually(async () => (h.thirdParty.deliveries.length === 2 ? true : null), 'a delivery while only an entry is paused');
    await post(`/organization/${org.id}/resume`, { entryId });
    expect(await poll(org.id)).toMatchObject({ kind: 'done' });

    expect((await post(`/organization/${org.id}/pause`, { entryId: 'no-such-entry' })).status).toBe(404);
    expect((await post(`/organization/${org.id}/pause`, { paused: true })).status).toBe(400);
  });

  it('tells an entry paused in its own right from one held by the organization’s pause (pausedBy), whichever was paused first', async () => {
    const org = await h.createOrganization({
      polling: [
        { endpoint: `${h.thirdParty.baseUrl}/music`, interval: 1, type: 'hour' },
        { endpoint: `${h.thirdParty.baseUrl}/music?page=1`, interval: 1, type: 'hour' },
      ],
    });
    const [a, b] = org.polling.map((p) => p.id);
    const entries = async () =>
      ((await get(`/organization/${org.id}/status`)).body.pollingEntries as Array<{ entryId: string; paused: boolean; pausedBy: string | null; pausedReason: string | null }>).map((e) => [
        e.entryId,
        e.paused,
        e.pausedBy,
        e.pausedReason,
      ]);

    await post(`/organization/${org.id}/pause`, { entryId: a, reason: 'endpoint moving' });
    expect(await entries()).toEqual([
      [a, true, 'entry', 'endpoint moving'],
      [b, false, null, null],
    ]);
    // The organization paused too: the entry's own pause still shows as its own.
    await post(`/organization/${org.id}/pause`, { reason: 'audit' });
    expect(await entries()).toEqual([
      [a, true, 'entry', 'endpoint moving'],
      [b, true, 'organization', 'audit'],
    ]);
    // The entry resumed on its own while the organization is paused: held by the organization alone.
    await post(`/organization/${org.id}/resume`, { entryId: a });
    expect(await entries()).toEqual([
      [a, true, 'organization', 'audit'],
      [b, true, 'organization', 'audit'],
    ]);
    // Paused again on its own, it stays paused when the organization resumes.
    await post(`/organization/${org.id}/pause`, { entryId: a, reason: 'still moving' });
    await post(`/organization/${org.id}/resume`);
    expect(await entries()).toEqual([
      [a, true, 'entry', 'still moving'],
      [b, false, null, null],
    ]);
  });

  it('pauses an entry after AUTO_PAUSE_AFTER_FAILED_RUNS failed runs in a row, saying why, and tells a signed notification webhook', async () => {
    const secret = generateWebhookSecret();
    const org = await h.createOrganization({ notifications: [{ url: receiverUrl, events: ['sync.failed', 'sync.paused'], secret }] });
    h.thirdParty.failures.music = { count: 5, status: 404 };

    expect(await poll(org.id)).toMatchObject({ kind: 'done', status: 'failed' });
    expect(await poll(org.id)).toMatchObject({ kind: 'done', status: 'failed' });
    const status = (await get(`/organization/${org.id}/status`)).body;
    expect(status.health).toBe('paused');
    expect(status.pollingEntries[0]).toMatchObject({ paused: true, consecutiveFailures: 2, pausedReason: expect.stringMatching(/^paused after 2 consecutive failed runs: .*404/) });
    expect(await poll(org.id)).toEqual({ kind: 'paused' });

    await eventually(async () => (receiver.deliveries.length >= 3 ? true : null), 'three notifications');
    const events = verified(receiver, secret);
    expect(events.map((e) => e.type).sort()).toEqual(['sync.failed', 'sync.failed', 'sync.paused']);
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
    expect(events.find((e) => e.type === 'sync.paused')?.data).toMatchObject({ organizationId: org.id, entryId: org.polling[0]?.id, automatic: true, reason: expect.stringContaining('2 consecutive') });
    expect(events.find((e) => e.type === 'sync.failed')?.data).toMatchObject({ organizationId: org.id, error: expect.stringContaining('404') });

    // Resumed, the count starts again: one more failure does not pause it.
    await post(`/organization/${org.id}/resume`, { entryId: org.polling[0]?.id });
    expect(await poll(org.id)).toMatchObject({ status: 'failed' });
    expect((await get(`/organization/${org.id}/status`)).body.pollingEntries[0]).toMatchObject({ paused: false, consecutiveFailures: 1 });
  });

  it('retries a notification the receiver did not take, with the same webhook-id, and sends a manual pause once', async () => {
    const secret = generateWebhookSecret();
    const org = await h.createOrganization({ notifications: [{ url: receiverUrl, events: ['sync.paused'], secret }] });
    receiver.failPath(NOTIFICATIONS_PATH, 503, 1);
    await post(`/organization/${org.id}/pause`, { reason: 'label audit' });
    // Pausing what is paused tells nobody again.
    await post(`/organization/${org.id}/pause`, { reason: 'again' });
    await eventually(async () => (receiver.deliveries.some((c) => c.status === 200) ? true : null), 'the retried notification', 15000);
    expect(receiver.deliveries.map((c) => c.status)).toEqual([503, 200]);
    const [first, second] = verified(receiver, secret);
    expect(second?.id).toBe(first?.id);
    expect(second).toMatchObject({ type: 'sync.paused', data: { organizationId: org.id, entryId: null, reason: 'label audit', automatic: false } });
    expect((await get(`/organization/${org.id}/status`)).body.pausedReason).toBe('label audit');
  });

  it('tells a notification webhook of a delivery that gave up and of the item it left diverged, once each', async () => {
    const secret = generateWebhookSecret();
    const org = await h.createOrganization({
      webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }],
      notifications: [{ url: receiverUrl, events: ['delivery.dead_lettered', 'item.diverged'], secret }],
    });
    h.thirdParty.failPath('/sync/create', 422);
    await h.createLocal(org.id, 'refused', { name: 'n', artist: 'a', album: 'b' });
    await h.drainOutput();
    await eventually(async () => (receiver.deliveries.length >= 2 ? true : null), 'two notifications');
    await new Promise((r) => setTimeout(r, 300));
    const events = verified(receiver, secret);
    expect(events.map((e) => e.type).sort()).toEqual(['delivery.dead_lettered', 'item.diverged']);
    expect(events.find((e) => e.type === 'delivery.dead_lettered')?.data).toMatchObject({ externalId: 'refused', deadLettered: false, reason: 'HTTP 422' });
    expect(events.find((e) => e.type === 'item.diverged')?.data).toMatchObject({ externalId: 'refused', state: 'diverged' });
  });

  it('sends a signed test event to an output webhook now and records nothing', async () => {
    const secret = generateWebhookSecret();
    const org = await h.createOrganization({
      webhooks: [
        { type: 'input', url: 'http://localhost:3003/sync', method: 'POST' },
        { type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'PUT', secret },
        { type: 'output', url: `${h.thirdParty.baseUrl}/sync/broken`, method: 'POST' },
      ],
    });
    const [input, output, broken] = org.webhooks;
    const res = await post(`/organization/${org.id}/webhooks/${output?.id}/test`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ delivered: true, status: expect.any(Number), durationMs: expect.any(Number), error: null });
    expect(h.thirdParty.deliveries).toHaveLength(1);
    const sent = h.thirdParty.deliveries[0];
    expect(sent?.method).toBe('PUT');
    const payload = new Webhook(secret).verify(sent?.raw ?? '', { 'webhook-id': sent?.webhookId ?? '', 'webhook-timestamp': sent?.timestamp ?? '', 'webhook-signature': sent?.signature ?? '' });
    expect(payload).toMatchObject({ type: 'test', data: { organizationId: org.id, webhookId: output?.id } });

    h.thirdParty.failPath('/sync/broken', 503);
    expect((await post(`/organization/${org.id}/webhooks/${broken?.id}/test`)).body).toEqual({ delivered: false, status: 503, durationMs: expect.any(Number), error: 'HTTP 503' });
    expect((await post(`/organization/${org.id}/webhooks/${input?.id}/test`)).status).toBe(409);
    expect((await post(`/organization/${org.id}/webhooks/nope/test`)).status).toBe(404);
    expect(await h.store.models.deliveries.countDocuments({ organizationId: org.id })).toBe(0);
    expect(await h.items(org.id)).toHaveLength(0);
  });

  it('replays failed deliveries in bulk by filter, by the single replay’s rules', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    await h.createLocal(org.id, 'ok', { name: 'n', artist: 'a', album: 'b' });
    await h.drainOutput();
    h.thirdParty.failPath('/sync/create', 400);
    for (const id of ['f1', 'f2', 'f3']) await h.createLocal(org.id, id, { name: id, artist: 'a', album: 'b' });
    await h.drainOutput();
    // f3 changed locally since (and failed again): its older failed delivery no longer needs a person (resolved).
    await h.updateLocal(org.id, 'f3', { name: 'f3 again', artist: 'a', album: 'b' });
    await h.drainOutput();
    h.thirdParty.clearPathFailure('/sync/create');

    expect((await post(`/organization/${org.id}/deliveries/replay`, { status: 'dead_lettered' })).body).toEqual({ replayed: 0, skipped: 0 });
    expect((await post(`/organization/${org.id}/deliveries/replay`, { webhookId: 'other' })).body).toEqual({ replayed: 0, skipped: 0 });
    const one = await post(`/organization/${org.id}/deliveries/replay`, { externalId: 'f1' });
    expect(one.status).toBe(202);
    expect(one.body).toEqual({ replayed: 1, skipped: 0 });
    await h.drainOutput();
    const all = await post(`/organization/${org.id}/deliveries/replay`, { status: 'failed', limit: 1000 });
    expect(all.body).toEqual({ replayed: 2, skipped: 0 });
    await h.drainOutput();
    const items = await h.items(org.id);
    expect(items.filter((i) => i.externalId !== 'f3').map((i) => [i.externalId, i.state])).toEqual([
      ['f1', 'synced'],
      ['f2', 'synced'],
      ['ok', 'synced'],
    ]);
    expect((await post(`/organization/${org.id}/deliveries/replay`, { limit: 1001 })).status).toBe(400);

    // Out of attempts (503 every time): a dead letter, replayed by `status: dead_lettered`; the refused one is not.
    h.thirdParty.failPath('/sync/create', 503);
    await h.createLocal(org.id, 'dl', { name: 'dl', artist: 'a', album: 'b' });
    await h.drainOutput();
    h.thirdParty.failPath('/sync/create', 400, 1);
    await h.createLocal(org.id, 'refused', { name: 'r', artist: 'a', album: 'b' });
    await h.drainOutput();
    const failed = (await get(`/organization/${org.id}/deliveries?status=failed`)).body.items as Array<{ externalId: string; deadLettered: boolean }>;
    expect(failed.filter((d) => ['dl', 'refused'].includes(d.externalId)).map((d) => [d.externalId, d.deadLettered]).sort()).toEqual([
      ['dl', true],
      ['refused', false],
    ]);
    expect((await get(`/organization/${org.id}/status`)).body.deliveries).toMatchObject({ deadLettered: 1, failed: 2 });
    h.thirdParty.clearPathFailure('/sync/create');
    expect((await post(`/organization/${org.id}/deliveries/replay`, { status: 'dead_lettered' })).body).toEqual({ replayed: 1, skipped: 0 });
    await h.drainOutput();
    expect((await h.item(org.id, 'dl'))?.state).toBe('synced');
    expect((await h.item(org.id, 'refused'))?.state).toBe('diverged');

    // Its webhook removed since, the refused one has nowhere to go: skipped by the single replay's rules.
    const { id: _id, ownerId: _owner, revision: _r, createdAt: _c, updatedAt: _u, ...settings } = org;
    await h.organizations.replace(h.ownerId, org.id, withEntryIds({ ...settings, webhooks: [] }));
    expect((await post(`/organization/${org.id}/deliveries/replay`, {})).body).toEqual({ replayed: 0, skipped: 1 });
  });

  it('a failed delivery that no longer needs a person is resolved: not counted, not a dead letter, not replayed in bulk (rule 5)', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    const statusOf = async () => (await get(`/organization/${org.id}/status`)).body;
    h.thirdParty.failPath('/sync/create', 400);
    for (const id of ['accepted', 'replaced', 'again']) await h.createLocal(org.id, id, { name: id, artist: 'a', album: 'b' });
    await h.drainOutput();
    expect(await statusOf()).toMatchObject({ health: 'failing', deliveries: { failed: 3 }, divergedItems: 3 });

    // Accepting the remote version resolves the divergence, and its failure with it.
    expect((await post(`/organization/${org.id}/divergences/accepted/accept-remote`)).status).toBe(200);
    // A newer change that fails too: only the newer failure needs a person.
    await h.updateLocal(org.id, 'again', { name: 'again 2', artist: 'a', album: 'b' });
    await h.drainOutput();
    // A newer change that is delivered.
    h.thirdParty.clearPathFailure('/sync/create');
    await h.updateLocal(org.id, 'replaced', { name: 'replaced 2', artist: 'a', album: 'b' });
    await h.drainOutput();

    expect(await statusOf()).toMatchObject({ health: 'failing', deliveries: { pending: 0, failed: 1 }, divergedItems: 1 });
    const deadLetters = (await get(`/organization/${org.id}/deliveries?status=failed`)).body.items as Array<{ externalId: string; version: number }>;
    expect(deadLetters.map((d) => [d.externalId, d.version])).toEqual([['again', 2]]);
    const resolved = (await get(`/organization/${org.id}/deliveries?status=resolved`)).body.items as Array<{ externalId: string; version: number; resolution: string; lastError: string }>;
    expect(resolved.map((d) => [d.externalId, d.version, d.lastError, d.resolution]).sort()).toEqual([
      ['accepted', 1, 'HTTP 400', 'the remote version of the item was accepted'],
      ['again', 1, 'HTTP 400', 'replaced by a newer change of the item (version 2)'],
      ['replaced', 1, 'HTTP 400', 'replaced by a newer change of the item (version 2)'],
    ]);
    // A failure of an older version left `failed` (as an earlier version of the product left them):
    // the organization's reconciliation resolves it.
    await h.store.models.deliveries.updateOne({ externalId: 'replaced', version: 1 }, { $set: { status: 'failed', resolution: null } });
    expect(await statusOf()).toMatchObject({ deliveries: { failed: 2 } });
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);
    expect(await statusOf()).toMatchObject({ deliveries: { failed: 1 } });
    expect((await get(`/organization/${org.id}/deliveries?externalId=replaced`)).body.items.map((d: { version: number; status: string; resolution: string | null }) => [d.version, d.status, d.resolution])).toEqual([
      [2, 'succeeded', null],
      [1, 'resolved', 'replaced by a newer change of the item (version 2)'],
    ]);

    // The bulk replay takes only the failure that still needs a person; then nothing is failing.
    expect((await post(`/organization/${org.id}/deliveries/replay`, { limit: 1000 })).body).toEqual({ replayed: 1, skipped: 0 });
    await h.drainOutput();
    expect(await statusOf()).toMatchObject({ health: 'healthy', deliveries: { pending: 0, failed: 0, deadLettered: 0 }, divergedItems: 0 });
  });

  it('switching to one-way resolves the failed deliveries (nothing is sent any more) (rule 8)', async () => {
    const org = await h.createOrganization({ webhooks: [{ type: 'output', url: `${h.thirdParty.baseUrl}/sync/create`, method: 'POST' }] });
    h.thirdParty.failPath('/sync/create', 400);
    await h.createLocal(org.id, 'mine', { name: 'n', artist: 'a', album: 'b' });
    await h.drainOutput();
    expect((await get(`/organization/${org.id}/status`)).body).toMatchObject({ health: 'failing', deliveries: { failed: 1 } });

    const { id: _id, ownerId: _owner, revision: _r, createdAt: _c, updatedAt: _u, ...settings } = org;
    await h.organizations.replace(h.ownerId, org.id, withEntryIds({ ...settings, synchronization: 'one-way' }));
    await h.use(INTEGRATION.reconcileOrganization).execute(org.id);
    expect((await get(`/organization/${org.id}/status`)).body).toMatchObject({ health: 'healthy', deliveries: { failed: 0 }, divergedItems: 0 });
    expect((await get(`/organization/${org.id}/deliveries`)).body.items).toEqual([expect.objectContaining({ status: 'resolved', resolution: 'the organization switched to one-way', lastError: 'HTTP 400' })]);
  });
});

describe('a delivery held by a pause looks again after PAUSED_DELIVERY_RECHECK_MS (real store, real Redis)', () => {
  let h: IntegrationHarness;
  beforeEach(async () => {
    h = await new IntegrationHarness().start({ PAUSED_DELIVERY_RECHECK_MS: '300' });
  });
  afterEach(async () => {
    await h.stop();
  });

  it('sends a held delivery soon after a resume that could not reach its job (another process resumed it)', async () => {
    const org = await h.createOrganization();
    const auth = `Bearer ${h.token()}`;
    expect((await request(h.app).post(`/organization/${org.id}/pause`).set('authorization', auth).send({ reason: 'audit' })).status).toBe(200);
    await h.createLocal(org.id, 'held', { name: 'n', artist: 'a', album: 'b' });
    const [delivery] = await eventually(async () => {
      const found = await h.store.models.deliveries.find({ organizationId: org.id }).lean<Array<{ _id: string }>>();
      return found.length === 1 ? found : null;
    }, 'the held delivery');
    // Its job looked, found the organization paused, and waits for its next look.
    await eventually(async () => ((await (await h.queues.output.getJob(jobIds.deliver(delivery?._id as string)))?.getState()) === 'delayed' ? true : null), 'the held job waiting');
    // Resumed by the store alone (as a process that could not promote this job would leave it).
    await new SyncControlRepository(h.store.models).setPaused(org.id, null, null);
    await eventually(async () => (h.thirdParty.deliveries.length === 1 ? true : null), 'the held delivery sent at its next look', 5000);
  });
});
