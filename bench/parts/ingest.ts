import { contentHash, inventoryItemId } from '@music/domain';
import { compileMapping } from '@music/mapping';
import { Child, machineBusy, machineCpu } from '../children';
import { benchOrganization, openScope, round, type BenchContext } from '../context';
import type { ProcessProfile } from '../protocol';
import { BENCH_MAPPINGS, BENCH_TRANSFORMS, benchList, recordsPage } from '../records';
import { writesIn } from '../store';

export interface IngestResult {
  ingest: { recordsPerSec: number; rawRecordsPerSec: number; ratio: number; records: number; seconds: number; rawSeconds: number };
  /** When the re-poll ran out of its budget, `speedup` is an upper bound and `finished` false. */
  repoll: {
    speedup: number;
    writes: number;
    seconds: number;
    recordsPerSec: number;
    finished: boolean;
    recordsDone: number;
    /** Every store command the re-poll sent (run bookkeeping included), per page it read. */
    storeCommandsPerPage: number;
    /** Read commands the re-poll sent to inventory_items (0: no item was read). */
    itemReads: number;
    storeCommands: number;
    pages: number;
  };
  details: Record<string, unknown>;
}

/** Where a poll's time went, from the child's own measurements (store commands, HTTP, CPU). */
export function pollBreakdown(profile: ProcessProfile): Record<string, unknown> {
  const commands = Object.fromEntries(
    Object.entries(profile.commands)
      .sort((a, b) => b[1].ms - a[1].ms)
      .map(([key, v]) => [key, { count: v.count, statements: v.statements, ms: Math.round(v.ms) }]),
  );
  const storeMs = Object.values(profile.commands).reduce((sum, v) => sum + v.ms, 0);
  return {
    wallMs: Math.round(profile.wallMs),
    httpMs: Math.round(profile.http.ms),
    httpRequests: profile.http.count,
    httpMb: round(profile.http.bytes / 1e6, 1),
    storeMs: Math.round(storeMs),
    processCpuMs: Math.round(profile.cpuMs),
    eventLoopUtilization: round(profile.eventLoopUtilization, 2),
    commands,
  };
}

/** CPU per record of the pure steps of a poll, measured here on the same records (µs/record). */
export function cpuPerRecord(records: number, pageSize: number): Record<string, number> {
  const mapping = compileMapping(BENCH_MAPPINGS as never, BENCH_TRANSFORMS as never);
  const pages = Math.max(1, Math.floor(Math.min(records, 20_000) / pageSize));
  const texts = Array.from({ length: pages }, (_, p) => JSON.stringify(recordsPage(pages * pageSize, p + 1, pageSize)));
  const n = pages * pageSize;
  let t = performance.now();
  const parsed = texts.map((text) => JSON.parse(text) as unknown[]);
  const parseUs = ((performance.now() - t) * 1000) / n;
  t = performance.now();
  const mapped = parsed.flat().map((r) => mapping.toItem(r));
  const mapUs = ((performance.now() - t) * 1000) / n;
  t = performance.now();
  for (const m of mapped) if (m.ok) contentHash(m.externalId, m.data);
  const hashUs = ((performance.now() - t) * 1000) / n;
  t = performance.now();
  for (const m of mapped) if (m.ok) inventoryItemId('org', m.externalId);
  const idUs = ((performance.now() - t) * 1000) / n;
  return { parseUs: round(parseUs, 2), mapUs: round(mapUs, 2), hashUs: round(hashUs, 2), itemIdUs: round(idUs, 2), records: n };
}

/** One run of the raw limit: the poll's documents written with the driver's bulkWrite into the scope's empty collection. */
async function rawLimit(ctx: BenchContext, scope: Awaited<ReturnType<typeof openScope>>, organizationId: string, children: Child[]): Promise<{ writeMs: number; wallMs: number; documents: number; busy: number }> {
  const { ingestRecords: n, pageSize } = ctx.options;
  ctx.log('ingest: raw limit (driver bulkWrite of the same documents)');
  const { child: raw } = await Child.start('raw-ingest', scope.childSettings());
  children.push(raw);
  const cpuBefore = machineCpu();
  raw.send({ type: 'raw-ingest', organizationId, total: n, batch: pageSize });
  const done = await raw.next('raw-ingested', 4 * 3600_000);
  const busy = machineBusy(cpuBefore, machineCpu());
  await raw.stop();
  return { writeMs: done.writeMs, wallMs: done.wallMs, documents: done.documents, busy };
}

/**
 * Part 1 and 2: a poll of N records through the engine (PollRun in an integration worker process),
 * the raw limit (the same documents written with the driver's bulkWrite, same batch size, into an
 * identical empty collection, once before the engine and once after), then the unchanged re-poll with its writes counted.
 */
export async function runIngest(ctx: BenchContext): Promise<IngestResult> {
  const { ingestRecords: n, pageSize } = ctx.options;
  const scope = await openScope(ctx, 'ingest');
  const rawScope = await openScope(ctx, 'ingestraw');
  const rawAfterScope = await openScope(ctx, 'ingestraw2');
  const children: Child[] = [];
  try {
    const org = await benchOrganization(scope, 'bench-owner', { pollEndpoint: benchList(ctx.thirdParty, n), pageSize });
    const pollingId = org.polling[0]?.id as string;

    const rawBefore = await rawLimit(ctx, rawScope, org.id, children);
    ctx.log(`ingest: poll of ${n} records (pages of ${pageSize}) through the engine`);
    const { child: poller } = await Child.start('poll', scope.childSettings());
    children.push(poller);
    const servedBefore = ctx.thirdParty.generatedPageMs;
    const cpuBefore = machineCpu();
    poller.send({ type: 'poll', organizationId: org.id, pollingId });
    const first = await poller.next('polled', 4 * 3600_000);
    const engineBusy = machineBusy(cpuBefore, machineCpu());
    const serveMs = ctx.thirdParty.generatedPageMs - servedBefore;
    if (first.counts.created !== n) throw new Error(`the ingest poll created ${first.counts.created} of ${n} items (${first.status})`);
    const seconds = first.profile.wallMs / 1000;
    ctx.log(`ingest: ${round(n / seconds, 0)} records/s (${round(seconds, 1)} s)`);

    // The raw limit, a second time after the engine, into another empty collection: its figure is
    // the mean of the two, so neither side gains from running first or last on the store (its
    // caches, its background work after 100,000 inserts).
    const rawAfter = await rawLimit(ctx, rawAfterScope, org.id, children);
    const rawSeconds = (rawBefore.writeMs + rawAfter.writeMs) / 2000;
    ctx.log(`ingest: raw ${round(n / rawSeconds, 0)} records/s (${round(rawBefore.writeMs / 1000, 1)} s of bulkWrite before the engine, ${round(rawAfter.writeMs / 1000, 1)} s after)`);

    ctx.log(`repoll: the same records again (nothing changed; stopped after ${ctx.options.repollBudgetSec} s)`);
    poller.send({ type: 'poll', organizationId: org.id, pollingId });
    const budget = ctx.options.repollBudgetSec * 1000;
    const second = await poller.next('polled', budget).catch(() => null);
    let repollProfile: ProcessProfile;
    let recordsDone = n;
    let repollSeconds: number;
    if (second) {
      await poller.stop();
      if (second.counts.unchanged !== n) throw new Error(`the re-poll found ${second.counts.unchanged} of ${n} items unchanged (${second.status})`);
      repollProfile = second.profile;
      repollSeconds = second.profile.wallMs / 1000;
    } else {
      // Out of budget: what it wrote so far, how far it got (the run records its progress), then stop it.
      poller.send({ type: 'profile' });
      repollProfile = (await poller.next('profile', 30_000)).profile;
      const run = await scope.store.models.syncRuns.findOne({ organizationId: org.id }).sort({ queuedAt: -1 }).lean();
      recordsDone = Number(run?.counts?.['fetched'] ?? 0);
      await poller.kill();
      repollSeconds = repollProfile.wallMs / 1000;
      ctx.log(`repoll: stopped after ${round(repollSeconds, 0)} s at ${recordsDone} of ${n} records`);
    }
    const writes = writesIn(repollProfile.commands, 'inventory_items');
    const storeCommands = Object.values(repollProfile.commands).reduce((sum, v) => sum + v.count, 0);
    const itemReads = Object.entries(repollProfile.commands)
      .filter(([key]) => /^(find|count|aggregate|distinct) inventory_items\b/.test(key))
      .reduce((sum, [, v]) => sum + v.count, 0);
    const lastRun = await scope.store.models.syncRuns.findOne({ organizationId: org.id }).sort({ queuedAt: -1 }).lean();
    const repollPages = Math.max(1, Number(lastRun?.pages ?? 0));
    ctx.log(`repoll: ${round(repollSeconds, 1)} s, ${writes} writes to inventory_items, ${itemReads} item reads, ${storeCommands} store commands for ${repollPages} pages`);

    return {
      ingest: {
        recordsPerSec: round(n / seconds, 0),
        rawRecordsPerSec: round(n / rawSeconds, 0),
        ratio: round(rawSeconds / seconds, 3),
        records: n,
        seconds: round(seconds, 2),
        rawSeconds: round(rawSeconds, 2),
      },
      repoll: {
        speedup: round(seconds / repollSeconds, 3),
        writes,
        seconds: round(repollSeconds, 2),
        recordsPerSec: round(recordsDone / repollSeconds, 0),
        finished: second !== null,
        recordsDone,
        storeCommandsPerPage: round(storeCommands / repollPages, 3),
        itemReads,
        storeCommands,
        pages: repollPages,
      },
      details: {
        ingestPoll: { status: first.status, counts: first.counts, thirdPartyServeMs: Math.round(serveMs), ...pollBreakdown(first.profile) },
        repollPoll: { ...(second ? { status: second.status, counts: second.counts } : { status: 'stopped (budget)' }), otherWrites: writesIn(repollProfile.commands, 'sync_runs'), ...pollBreakdown(repollProfile) },
        raw: {
          before: { writeMs: Math.round(rawBefore.writeMs), wallMs: Math.round(rawBefore.wallMs), documents: rawBefore.documents },
          after: { writeMs: Math.round(rawAfter.writeMs), wallMs: Math.round(rawAfter.wallMs), documents: rawAfter.documents },
        },
        // The whole machine's CPU in use (every process, 0 to 1) while each side ran: the store's
        // inserts and the engine share the same cores here.
        machineCpuBusy: { engine: round(engineBusy, 3), rawBefore: round(rawBefore.busy, 3), rawAfter: round(rawAfter.busy, 3) },
        cpuPerRecord: cpuPerRecord(n, pageSize),
      },
    };
  } finally {
    for (const c of children) await c.stop().catch(() => undefined);
    await scope.close();
    await rawScope.close();
    await rawAfterScope.close();
  }
}
