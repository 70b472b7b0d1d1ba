import { createServer, type Server } from 'node:http';
import fc from 'fast-check';
import request from 'supertest';
import { eventually } from '@music/testing';
import { InProcessSystem, type User } from './in-process-system';
import { hostileJson, hostileNumber, hostileString, mutate, mutation } from './fuzz-arbitraries';
import { INTEGRATION } from '../../apps/music-integration/src/container';

// The mapper, fuzzed through the real pipeline: random third-party records (valid songs with one
// part broken, and any JSON at all) reach an organization with number, boolean, array and object
// fields and inbound transforms, by a poll of a loopback "third party" and by an input webhook.
// Every poll must end as a recorded run that accounts for every record (no crash, no 5xx, no
// aborted run), every accepted webhook call's job must complete, and only well-formed records may
// become items. Fixed seeds; FUZZ_MAPPER_RUNS sequences of records.

const RUNS = Number(process.env['FUZZ_MAPPER_RUNS'] ?? 25);
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261124);

jest.setTimeout(180_000);

const MAPPINGS = {
  externalId: { type: 'string', source: 'id', required: true },
  name: { type: 'string', source: 'name', required: true },
  artist: { type: 'string', source: 'artist', required: true },
  album: { type: 'string', source: 'album', required: false },
  duration: { type: 'number', source: 'meta.duration', required: false },
  explicit: { type: 'boolean', source: 'explicit', required: false },
  tags: { type: 'array', source: 'tags', items: { type: 'string' } },
  label: { type: 'object', source: 'label', properties: { name: { type: 'string', required: true }, year: { type: 'number' } } },
};
const TRANSFORMS = [
  { op: 'trim', field: 'name' },
  { op: 'uppercase', field: 'artist' },
  { op: 'replace', field: 'album', pattern: '^The ', replacement: '' },
];

const validRecord = {
  id: 'r1',
  name: ' Song ',
  artist: 'Band',
  album: 'The Album',
  meta: { duration: 215 },
  explicit: false,
  tags: ['rock', 'live'],
  label: { name: 'Label', year: 1999 },
};

/** One record: a valid one with a part broken (most of the time), or anything at all. */
const record: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(mutation, fc.nat(999)).map(([m, n]) => mutate({ ...validRecord, id: `r${n}` }, m)) },
  { weight: 2, arbitrary: fc.tuple(fc.nat(999), hostileString, hostileNumber).map(([n, s, x]) => ({ ...validRecord, id: `r${n}`, name: s, meta: { duration: x } })) },
  // A valid record with one string replaced by text stores and parsers choke on.
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.nat(999), fc.constantFrom('id', 'name', 'artist', 'album'), fc.constantFrom('a\u0000b', '\u0000', '\ud800', 'x'.repeat(50_000), ' ', ''))
      .map(([n, field, text]) => ({ ...validRecord, id: `r${n}`, [field]: text })),
  },
  { weight: 1, arbitrary: hostileJson },
);
const records = fc.array(record, { minLength: 1, maxLength: 8 });

describe('fuzzing the mapper through polls and input webhooks (real store, Redis, workers)', () => {
  let system: InProcessSystem;
  let owner: User;
  let serving: unknown = [];
  let thirdParty: Server;
  let baseUrl = '';

  beforeAll(async () => {
    thirdParty = createServer((_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(serving)));
    await new Promise<void>((r) => thirdParty.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(thirdParty.address() as { port: number }).port}`;
    system = await InProcessSystem.open();
    owner = await system.user('mapper');
  });
  afterAll(async () => {
    await system?.close();
    thirdParty?.closeAllConnections();
    await new Promise((r) => thirdParty?.close(r));
  });

  async function freshOrganization(): Promise<{ id: string; pollingId: string }> {
    serving = [];
    const org = await system.organization(owner, {
      synchronization: 'one-way',
      webhooks: [
        { type: 'input', url: 'http://localhost:3003/sync', method: 'POST' },
        { type: 'input', url: 'http://localhost:3003/sync', method: 'DELETE' },
      ],
      polling: [{ endpoint: `${baseUrl}/music`, interval: 1, type: 'day', trackDeletes: false }],
      mappings: MAPPINGS,
      transforms: TRANSFORMS,
    });
    // Registering the schedule fires the organization's first poll at once (BullMQ's `every`
    // schedulers do): let it finish on an empty snapshot, so the polls below run alone.
    await eventually(
      async () => (await system.use(INTEGRATION.runs).listForOrganization(org.id, { limit: 5 })).some((r) => r.finishedAt !== null),
      'the first scheduled poll',
      20000,
    );
    return { id: org.id, pollingId: (org['polling'] as Array<{ id: string }>)[0]?.id as string };
  }

  it(`a poll of random records always ends as a run that accounts for every record (${RUNS} runs, seed ${SEED})`, async () => {
    const org = await freshOrganization();
    await fc.assert(
      fc.asyncProperty(records, async (batch) => {
        serving = batch;
        const outcome = await system.use(INTEGRATION.pollRun).execute({ version: 1, organizationId: org.id, pollingId: org.pollingId, trigger: 'manual' }, async () => undefined);
        if (outcome.kind !== 'done') throw new Error(`poll did not finish: ${JSON.stringify(outcome)}`);
        const { counts, status } = outcome;
        if (!['succeeded', 'partial', 'attention'].includes(status)) throw new Error(`run ${status}: ${JSON.stringify(outcome)}`);
        if (counts.fetched !== batch.length) throw new Error(`fetched ${counts.fetched} of ${batch.length}`);
        const accounted = counts.created + counts.updated + counts.unchanged + counts.invalid + counts.conflicts;
        // Every record is counted once, except that records repeating an externalId in one page count once (the last wins).
        if (accounted > batch.length || accounted === 0) {
          throw new Error(`counts do not account for the records: ${JSON.stringify(counts)}`);
        }
        const run = await system.use(INTEGRATION.runs).findForOrganization(org.id, outcome.runId);
        if (run?.status !== status || run.finishedAt === null) throw new Error(`run not recorded: ${JSON.stringify(run)}`);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // Every stored item is a well-formed mapping result.
    const items = await system.store.models.inventoryItems.find({ organizationId: org.id }).lean();
    for (const item of items) {
      expect(typeof item.data['name']).toBe('string');
      expect(typeof item.data['artist']).toBe('string');
      if ('duration' in item.data) expect(Number.isFinite(item.data['duration'])).toBe(true);
    }
  });

  it('a polled record holding U+0000 (which the store cannot hold) is counted invalid; the rest of the page is stored', async () => {
    const org = await freshOrganization();
    serving = [
      { ...validRecord, id: 'clean-1' },
      { ...validRecord, id: 'nul-1', name: 'a\u0000b' },
      { ...validRecord, id: 'nul-2', tags: ['ok', 'x\u0000'] },
      { ...validRecord, id: 'clean-2' },
    ];
    const outcome = await system.use(INTEGRATION.pollRun).execute({ version: 1, organizationId: org.id, pollingId: org.pollingId, trigger: 'manual' }, async () => undefined);
    expect(outcome).toMatchObject({ kind: 'done', status: 'succeeded', counts: { fetched: 4, created: 2, invalid: 2 } });
    const ids = (await system.store.models.inventoryItems.find({ organizationId: org.id }).lean()).map((i) => i.externalId).sort();
    expect(ids).toEqual(['clean-1', 'clean-2']);
  });

  it(`an input webhook call of random records is answered 202 or 4xx, and an accepted one's job completes (${RUNS} runs, seed ${SEED})`, async () => {
    const org = await freshOrganization();
    const inbound = system.use(INTEGRATION.queues).inbound;
    await fc.assert(
      fc.asyncProperty(records, fc.boolean(), async (batch, asDelete) => {
        const res = await request(system.apps['music-integration'])[asDelete ? 'delete' : 'post'](`/sync?orgId=${org.id}`).set('content-type', 'application/json').send(JSON.stringify(batch));
        if (res.status >= 500) throw new Error(`/sync answered ${res.status}: ${res.text}`);
        if (res.status !== 202) return;
        const job = await eventually(async () => {
          const jobs = await inbound.getJobs(['completed', 'failed', 'delayed']);
          return jobs.find((j) => (j.data as { messageId: string }).messageId === res.body.messageId);
        }, 'the inbound job');
        const state = await eventually(async () => {
          const s = await job.getState();
          return s === 'completed' || s === 'failed' || (s === 'delayed' && job.attemptsMade > 0) ? s : undefined;
        }, 'the inbound job to finish');
        if (state !== 'completed') throw new Error(`inbound job ${state}: ${(await inbound.getJob(job.id as string))?.failedReason}`);
      }),
      { seed: SEED + 1, numRuns: RUNS },
    );
  });
});
