import { contentHash, emptyCounts, type Organization, type PollingEntry, type RecordError, type SyncRunCounts, type SyncRunStatus } from '@music/domain';
import { LeaseLostError, type Lease, type Logger, type RedisLocks } from '@music/platform';
import { pageIds, rememberedIds, type InventoryRepository, type OrganizationRepository, type PollHead, type PollMemoryRepository, type RememberedPage, type SyncRunRepository } from '@music/persistence';
import type { AccountOutbound } from '../delivery/account-outbound';
import type { PollJob } from '@music/queue';
import { markAdvancedBy, newMarkTally, type InboundCounts, type InboundRecord, type PreparedUpserts, type SyncState } from '@music/sync-state';
import { createHash } from 'node:crypto';
import type { MappingCache } from '../engine/mapping-cache';
import type { ConfigurationMemory } from '../maintenance/configuration-memory';
import { ExternalIdSet } from './external-id-set';
import { fetchPages, needsTwoMisses, newWalkState, PollFetchError, readPath, type PageFacts } from './poll-pages';

const ERROR_SAMPLE = 20;
/**
 * Remembered pages written per batch while a run goes on. The walk waits for none of them, only its
 * end does, for the pages not yet written: small batches keep that short (a batch is a command per 4
 * pages, and one read of the organization's liveness when it creates pages).
 */
const MEMORY_FLUSH_PAGES = 8;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

/** A mapped record before its content hash (computed only for pages that are applied). */
type Mapped = Omit<InboundRecord, 'hash'>;

/** The organization's mapping and transforms, as one key: a page mapped by another mapping is another page. */
function mappingKeyOf(org: Organization): string {
  return sha256(JSON.stringify([org.mappings, org.transforms]));
}

/** What decides the listing an entry's run reads and how it maps it: the page memory is kept per key, and a run deletes only on its own key's snapshot. */
function listingKeyOf(org: Organization, entry: PollingEntry): string {
  return sha256(JSON.stringify([entry.endpoint, entry.pagination ?? null, entry.itemsPath ?? null, entry.trackDeletes, entry.incremental ?? null, mappingKeyOf(org)]));
}

/**
 * The fingerprint of a page's mapped records: their externalIds and data in order (the JSON the
 * mapping produced: the same mapping writes its fields in the same order), and the mapping's hash.
 * Equal fingerprints mean equal data, hence equal content hashes; a mere reordering of fields
 * inside a value only costs the normal path.
 */
function fingerprintOf(mappingKey: string, batch: readonly Mapped[]): string {
  return createHash('sha256')
    .update(mappingKey)
    .update(JSON.stringify(batch.map((r) => [r.externalId, r.data])))
    .digest('base64url');
}

/** Incremental cursors: numerically when both are numbers, else as text (ISO timestamps sort as time). */
function laterCursor(a: string | number | null, b: unknown): string | number | null {
  if (typeof b !== 'string' && typeof b !== 'number') return a;
  if (typeof b === 'number' && !Number.isFinite(b)) return a;
  if (a === null) return b;
  if (typeof a === 'number' && typeof b === 'number') return b > a ? b : a;
  return String(b) > String(a) ? b : a;
}

const sameHead = (a: PollHead | null, b: PollHead): boolean => a !== null && JSON.stringify(a) === JSON.stringify(b);

function samePage(a: RememberedPage | undefined, b: RememberedPage): boolean {
  if (!a) return false;
  // The ids are not compared, only their count: equal fingerprints list the same ids, and a page without one lists none.
  const { idsJson: _aIds, idCount: aCount, ...aRest } = a;
  const { idsJson: _bIds, idCount: bCount, ...bRest } = b;
  return aCount === bCount && JSON.stringify(aRest) === JSON.stringify(bRest);
}
const PROGRESS_EVERY_MS = 1000;

export interface PollRunDeps {
  organizations: OrganizationRepository;
  runs: SyncRunRepository;
  items: InventoryRepository;
  sync: Pick<SyncState, 'clock' | 'remote' | 'marks'>;
  /** Applies the configuration again after a run that wrote under an entry removed meanwhile. */
  configuration: Pick<ConfigurationMemory, 'afterWrite'>;
  /** What the entry's runs remember, to skip unchanged pages (absent: every page takes the normal path). */
  memory?: PollMemoryRepository;
  /** The guarded client, held to each owner's outbound quota, presenting each entry's credentials. */
  http: AccountOutbound;
  mappings: MappingCache;
  locks: RedisLocks;
  logger: Logger;
  deleteGuardRatio: number;
  /** A run stops writing after this long and ends `partial` (POLL_RUN_MAX_MS). */
  maxRunMs: number;
  /** TOMBSTONE_RETENTION_MS: a snapshot that began longer ago may predate a tombstone that expired; its records create nothing. */
  tombstoneRetentionMs: number;
  /** The per-entry lease's TTL (renewed every third of it while the run works). */
  leaseTtlMs: number;
  /** QUOTA_PAGES_PER_RUN: no run reads more pages, whatever the entry's maxPages. */
  pagesPerRun: number;
}

/** The entry with its maxPages capped by the pages-per-run quota. */
function withPageQuota(entry: PollingEntry, pagesPerRun: number): PollingEntry {
  if (!entry.pagination || entry.pagination.maxPages <= pagesPerRun) return entry;
  return { ...entry, pagination: { ...entry.pagination, maxPages: pagesPerRun } };
}

export type PollRunOutcome =
  | { kind: 'done'; runId: string; status: SyncRunStatus; counts: SyncRunCounts }
  /** The organization or its polling entry is gone: the scheduler should be removed. */
  | { kind: 'stale' }
  /** A transient failure: the job should be retried (the run is marked failed meanwhile). */
  | { kind: 'retry'; runId: string; message: string }
  /** A manual run found another run of the entry in progress: try again shortly. */
  | { kind: 'busy'; runId: string };

/** The lease a run of one polling entry holds (one run per entry at a time). */
export const pollLeaseName = (organizationId: string, pollingId: string): string => `poll:${organizationId}:${pollingId}`;

function addCounts(counts: SyncRunCounts, applied: InboundCounts): void {
  counts.created += applied.created;
  counts.updated += applied.updated;
  counts.unchanged += applied.unchanged;
  counts.stale += applied.stale;
  counts.diverged += applied.diverged;
  // Not applied now (another writer held the item too long): like a conflict, the next run applies it.
  counts.conflicts += applied.conflicts + applied.deferred;
}

/**
 * One poll of one polling entry (docs/sync-model.md, "Polling"): record the start on the store
 * clock, fetch every page, map each record, apply each page by the state table with the start as
 * the records' freshness, then - only after a complete, consistent snapshot - run the entry's
 * deletion pass, unless the delete guard holds. The run holds the entry's lease (renewed while it
 * works) and stops before its next write once the lease is lost or POLL_RUN_MAX_MS has passed.
 */
export class PollRun {
  constructor(private readonly deps: PollRunDeps) {}

  async execute(job: PollJob, ensureRunId: (runId: string) => Promise<void>): Promise<PollRunOutcome> {
    const { organizations, runs, logger } = this.deps;
    const org = await organizations.findById(job.organizationId);
    const entry = org?.polling.find((p) => p.id === job.pollingId);
    if (!org || !entry) {
      if (job.runId) await runs.finish(job.runId, { status: 'skipped', counts: emptyCounts(), pages: 0, errors: [], message: 'organization or polling entry no longer exists' });
      return { kind: 'stale' };
    }
    if (job.runId) {
      // music-config marks a manual run failed when its enqueue timed out; BullMQ may still have
      // added the job once Redis answered. That run was reported failed: don't run it.
      const run = await runs.findForOrganization(org.id, job.runId);
      if (!run || (run.status === 'failed' && run.startedAt === null)) return { kind: 'done', runId: job.runId, status: 'skipped', counts: emptyCounts() };
    }
    const runId = job.runId ?? (await runs.createQueued(org.id, entry, job.trigger)).id;
    await ensureRunId(runId);

    // The lease's token is the run id: a job BullMQ runs again after its process died (stalled-job
    // recovery) carries the same run id and takes its own lease back rather than wait for it to expire.
    const lease = await this.deps.locks.lease(pollLeaseName(org.id, entry.id), runId, this.deps.leaseTtlMs);
    if (!lease) {
      if (job.trigger === 'manual') return { kind: 'busy', runId };
      await runs.finish(runId, { status: 'skipped', counts: emptyCounts(), pages: 0, errors: [], message: 'another run of this polling entry is in progress' });
      return { kind: 'done', runId, status: 'skipped', counts: emptyCounts() };
    }
    try {
      return await this.walk(org, entry, runId, lease);
    } catch (error) {
      logger.error('poll failed unexpectedly', { runId, err: (error as Error).message });
      throw error;
    } finally {
      await lease.release();
    }
  }

  private async walk(org: Organization, entry: PollingEntry, runId: string, lease: Lease): Promise<PollRunOutcome> {
    const { runs, items, logger, sync } = this.deps;
    const memoryRepo = this.deps.memory;
    // What the entry's runs remember (docs/sync-model.md, "Unchanged pages skip the store"), and the
    // organization's write mark, read before the start is recorded.
    const mappingKey = mappingKeyOf(org);
    const configKey = listingKeyOf(org, entry);
    const memory: { head: PollHead | null; pages: Map<number, RememberedPage> } = memoryRepo ? await memoryRepo.read(org.id, entry.id) : { head: null, pages: new Map<number, RememberedPage>() };
    // The head exists before the mark is read: a writer that cannot raise the mark forgets it (raises its `gen`).
    if (memoryRepo && !memory.head) memory.head = await memoryRepo.ensureHead(org.id, entry.id);
    const head = memory.head && memory.head.configKey === configKey ? memory.head : null;
    const markStart = memoryRepo ? await sync.marks.read(org.id) : null;
    const tally = newMarkTally();
    const inc = entry.incremental;
    const incremental = inc !== undefined && head !== null && head.cursor !== null && head.runsSinceFull + 1 < inc.fullSnapshotEvery;
    // The remembered pages are true: no item of the organization was written since they were recorded.
    // Re-checked before each page is skipped: another writer during the run revokes it for the rest of the run.
    let trusted = !incremental && head !== null && head.mark !== null && markStart !== null && head.mark === markStart;
    // Before the first request: every record of this snapshot is at least this fresh (rule 2).
    const startedAt = await sync.clock.now();
    const deadline = performance.now() + this.deps.maxRunMs;
    await runs.markRunning(runId, startedAt);
    const mapping = this.deps.mappings.for(org);
    // An organization holding no item when the run starts: every record is new (insert first, no
    // read back), and nothing can have vanished. Remembered pages that are true and list items say it holds some.
    const knownToHold = trusted && [...memory.pages.values()].some((p) => p.idCount > 0);
    const startedEmpty = knownToHold ? false : !(await items.hasAny(org.id));
    let insertFirst = startedEmpty;
    // An incremental run reads only what changed: it never deletes.
    const tracking = entry.trackDeletes && !startedEmpty && !incremental;
    // The externalIds seen: for the deletion pass, and (remembered pages) to know no record came
    // twice. A run that started empty knows it without them (a record seen twice is not created
    // twice), so a first poll of a million records does not hold a million ids; a re-poll holds
    // them as bytes (ExternalIdSet), not as a Set of strings.
    const collecting = tracking || (memoryRepo !== undefined && !incremental && !startedEmpty);
    let allCreated = true;
    const counts = emptyCounts();
    const errors: RecordError[] = [];
    const seen = new ExternalIdSet();
    // An object, not a `let`: the closure below sets it, which flow analysis does not follow.
    const walkIds = { duplicate: null as string | null };
    let unidentified = 0;
    let pages = 0;
    let lastProgress = performance.now();
    const walk = newWalkState();
    // Pages that took the normal path (read and applied), and what this run will remember.
    let applied = 0;
    const toSave: RememberedPage[] = [];
    let cursor = head?.cursor ?? null;
    const see = (externalId: string): void => {
      if (!collecting) return;
      if (!seen.add(externalId)) walkIds.duplicate ??= externalId;
    };

    const mapPage = (records: unknown[]): { batch: Mapped[]; invalid: number } => {
      const batch: Mapped[] = [];
      let invalid = 0;
      records.forEach((record) => {
        counts.fetched++;
        if (inc) cursor = laterCursor(cursor, readPath(record, inc.cursorField));
        const outcome = mapping.toItem(record);
        if (outcome.ok) {
          see(outcome.externalId);
          batch.push({ externalId: outcome.externalId, data: outcome.data });
          return;
        }
        counts.invalid++;
        invalid++;
        // An invalid record still proves its item exists remotely, when its id can be read.
        const externalId = outcome.externalId ?? mapping.externalIdOf(record);
        if (externalId === undefined) unidentified++;
        else see(externalId);
        for (const e of outcome.errors) {
          if (errors.length < ERROR_SAMPLE) errors.push({ index: counts.fetched - 1, ...(externalId ? { externalId } : {}), path: e.path, message: e.message });
        }
      });
      return { batch, invalid };
    };
    // The run's writes besides its pages that the walk does not wait for (the remembered pages, its
    // progress): the first that fails stops the walk before its next page and fails the run, as it
    // did when each was awaited in turn; the run records its end only once they are all settled.
    // An object, not a `let`: the callbacks below set it, which flow analysis does not follow.
    const sideFailure = { failed: false, error: undefined as unknown };
    const failed = (error: unknown): void => {
      if (sideFailure.failed) return;
      sideFailure.failed = true;
      sideFailure.error = error;
    };
    // The remembered pages written so far, a batch after the other (a batch is not written once one failed).
    let saving: Promise<void> = Promise.resolve();
    const flush = (): Promise<void> => {
      if (memoryRepo && toSave.length > 0) {
        const batch = toSave.splice(0);
        saving = saving.then(() => memoryRepo.savePages(org.id, entry.id, batch, (index) => memory.pages.has(index)));
      }
      return saving;
    };
    // Written while the walk goes on (docs/performance.md, "1. Ingest"): no page waits for the memory of the pages before it.
    const keep = (page: RememberedPage): void => {
      if (samePage(memory.pages.get(page.index), page)) return;
      toSave.push(page);
      if (toSave.length >= MEMORY_FLUSH_PAGES) flush().catch(failed);
    };
    // The run's progress, recorded at most once a second and never twice at once (the last is settled before the run's end is recorded).
    let progress: Promise<void> = Promise.resolve();
    let progressing = false;
    const recordProgress = (): void => {
      if (progressing) return;
      progressing = true;
      progress = runs
        .recordProgress(runId, { ...counts }, pages)
        .catch(failed)
        .finally(() => {
          progressing = false;
        });
    };
    // Settles what the entry remembers once the run is over (not after a lost lease: another run holds the entry).
    const commit = async (passSettled: boolean): Promise<void> => {
      if (!memoryRepo) return;
      await flush();
      const markEnd = await sync.marks.read(org.id);
      const complete = walk.complete && !incremental;
      let next: PollHead;
      if (incremental) {
        // The remembered pages stay what they were (its own writes, if any, moved the mark).
        next = { ...(head as PollHead), cursor: walk.complete ? cursor : (head as PollHead).cursor, runsSinceFull: (head as PollHead).runsSinceFull + 1, gen: memory.head?.gen ?? 0 };
      } else {
        const once = startedEmpty ? allCreated : walkIds.duplicate === null;
        const alone = markAdvancedBy(markStart, markEnd, tally.raised) && !tally.doubt && once;
        if (complete && [...memory.pages.keys()].some((i) => i >= pages)) await memoryRepo.dropPagesFrom(org.id, entry.id, pages);
        next = {
          mark: alone ? markEnd : null,
          configKey,
          pages: complete ? pages : Math.max(pages, head?.pages ?? 0),
          passSettled: complete && passSettled,
          cursor: walk.complete ? cursor : (head?.cursor ?? null),
          runsSinceFull: walk.complete ? 0 : (head?.runsSinceFull ?? 0),
          gen: memory.head?.gen ?? 0,
        };
      }
      if (!sameHead(memory.head, next)) await memoryRepo.saveHead(org.id, entry.id, next);
    };
    // The store or Redis failed under the run (or a bug): the run is recorded failed where the store
    // still answers, so it never shows as running for good; the job's retry runs it again.
    const recordFailed = (error: unknown): Promise<unknown> => runs.finish(runId, { status: 'failed', counts, pages, errors, message: (error as Error).message }).catch(() => undefined);
    // The organization's revision at which `entryChangedUnder` last found the entry listing as this
    // run read it: the deletion pass writes each batch only while it is still the one (rule 6).
    let listingAt = org.revision;
    // A polling entry removed while the run wrote may be in the items' `seenBy` it wrote (rule 6):
    // the configuration is applied again then (Maintenance). Says why this run must delete nothing:
    // its own entry is gone, or now lists another way (another endpoint, pagination or mapping),
    // so what it read is no longer the entry's snapshot; null when neither.
    const entryChangedUnder = async (): Promise<string | null> => {
      const since = await this.deps.configuration.afterWrite(org.id, org.revision, org.polling.map((p) => p.id));
      if (since.gone.includes(entry.id)) return 'the polling entry was removed while the run went on; deletions skipped';
      const now = since.organization?.polling.find((p) => p.id === entry.id);
      if (since.organization && now && listingKeyOf(since.organization, now) !== configKey) return "the polling entry's settings changed while the run went on; deletions skipped";
      if (since.organization) listingAt = since.organization.revision;
      return null;
    };
    const finish = async (status: SyncRunStatus, message: string | null, passSettled = false): Promise<PollRunOutcome> => {
      await commit(passSettled).catch((error: Error) => logger.warn('poll could not record its page memory', { runId, err: error.message }));
      await runs.finish(runId, { status, counts, pages, errors, message });
      logger.info('poll finished', { runId, status, ...counts, ...(message ? { message } : {}) });
      return { kind: 'done', runId, status, counts };
    };
    const capped = (): boolean => performance.now() > deadline;
    const cappedMessage = `stopped after POLL_RUN_MAX_MS (${this.deps.maxRunMs} ms) at page ${pages}; deletions skipped`;
    const factsOf = (index: number): PageFacts | undefined => {
      const page = memory.pages.get(index);
      return trusted && page && page.fingerprint !== null ? page : undefined;
    };
    const params = incremental && inc && head?.cursor !== null && head?.cursor !== undefined ? { [inc.queryParam]: head.cursor } : undefined;

    try {
      const source = fetchPages(this.deps.http.forPoll(org, entry), withPageQuota(entry, this.deps.pagesPerRun), walk, (record) => mapping.externalIdOf(record), {
        ...(trusted ? { remembered: factsOf } : {}),
        ...(params ? { params } : {}),
      });
      type MappedPage = {
        index: number;
        notModified: boolean;
        facts: PageFacts;
        records: unknown[];
        batch: Mapped[];
        invalid: number;
        fingerprint: string | null;
        skip: boolean;
        hashed: InboundRecord[];
        size: number;
        /** Locked and its documents built while the page before it was written (a first poll). */
        prepared?: Promise<PreparedUpserts>;
      };
      // Mapped, fingerprinted, compared with the remembered page, and (to be applied) hashed.
      const prepare = (index: number, facts: PageFacts, records: unknown[]): MappedPage => {
        const known = trusted ? memory.pages.get(index) : undefined;
        // The very same bytes as the remembered (clean) page, read the same way: the same records,
        // mapped by the same mapping (the mapping is a pure function): not even mapped again.
        if (known && known.fingerprint !== null && facts.bodyHash !== null && known.bodyHash === facts.bodyHash && known.trimmed === facts.trimmed && known.idCount === records.length) {
          counts.fetched += records.length;
          if (collecting) for (const id of rememberedIds(known)) see(id);
          return { index, notModified: false, facts, records, batch: [], invalid: 0, fingerprint: known.fingerprint, skip: true, hashed: [], size: records.length };
        }
        const { batch, invalid } = mapPage(records);
        const fingerprint = incremental ? null : fingerprintOf(mappingKey, batch);
        const skip = known !== undefined && known.fingerprint !== null && known.fingerprint === fingerprint && invalid === 0;
        const hashed = skip ? [] : batch.map((r): InboundRecord => ({ ...r, hash: contentHash(r.externalId, r.data) }));
        return { index, notModified: false, facts, records, batch, invalid, fingerprint, skip, hashed, size: batch.length };
      };
      // The next page is fetched and mapped while this one is written, so the third party, this
      // process and the store work at the same time (two pages are held at most).
      const ahead = (): Promise<MappedPage | null> => {
        const next = source.next().then((r) => {
          if (r.done) return null;
          const page = r.value;
          if (page.notModified) return { index: page.index, notModified: true, facts: page.facts, records: [], batch: [], invalid: 0, fingerprint: null, skip: true, hashed: [], size: 0 };
          return prepare(page.index, page.facts, page.records);
        });
        // Awaited below, after the page being written: a failed fetch surfaces there, in page order.
        next.catch(() => undefined);
        return next;
      };
      // While a first poll's pages all come new, the next page is prepared while the store inserts
      // this one: its items' locks taken, their version floors read, their documents built, so
      // those steps wait on no insert (docs/performance.md, "1. Ingest"). A prepared page holds its
      // locks until it is written or abandoned, so nothing writes its items between its floor read
      // and its insert (docs/sync-model.md, rule 4); it is written only after the page before it,
      // and only while the pages before it all came new (else it is abandoned and written as usual).
      // A page sharing an externalId with the page being written is not prepared ahead: its lock
      // is this page's until this page is written, and waiting for it could defer that item.
      const origin = { kind: 'poll', entry: entry.id, freshness: startedAt } as const;
      // The cap is checked before each page, on this process's clock; a run stalled after that check
      // past the retention may find an item's tombstone expired. Its records create nothing then
      // (rule 2), judged by the write on the store's time once it holds the items' locks.
      const createBefore = new Date(startedAt.getTime() + this.deps.tombstoneRetentionMs);
      // The page prepared ahead and not yet written or abandoned (its locks are held).
      let held: Promise<PreparedUpserts> | null = null;
      let stopping = false;
      // The pages written whose locks are still being released and write mark raised after them.
      let released: Promise<unknown> = Promise.resolve();
      // The first of those releases that failed (a liveness check or a mark's fallback): it stops
      // the walk before the next page, and fails the run whatever else ended it.
      // An object, not a `let`: the callbacks below set it, which flow analysis does not follow.
      const releaseFailure = { failed: false, error: undefined as unknown };
      const prepareAhead = (writing: Mapped[], upcoming: Promise<MappedPage | null>): Promise<MappedPage | null> => {
        // The pages before the one being written may still be giving their locks back: a page
        // sharing an item with one of them waits for that, not for its lock.
        const earlier = released;
        const ready = upcoming.then(async (page) => {
          if (stopping || page === null || page.skip || page.hashed.length === 0) return page;
          const writingIds = new Set(writing.map((r) => r.externalId));
          if (page.hashed.some((r) => writingIds.has(r.externalId))) return page;
          await earlier.catch(() => undefined);
          if (stopping) return page;
          const prepared = sync.remote.prepareUpserts(org.id, page.hashed, origin, { guard: lease, insertFirst: true, createBefore, marks: tally });
          prepared.catch(() => undefined);
          held = prepared;
          return { ...page, prepared };
        });
        // Awaited by the loop; a walk that stops first leaves it unread.
        ready.catch(() => undefined);
        return ready;
      };
      const abandonHeld = async (): Promise<void> => {
        const prepared = held;
        held = null;
        if (prepared) await prepared.then((b) => b.abandon()).catch(() => undefined);
      };
      let stoppedCapped = false;
      let next = ahead();
      try {
        for (let page = await next; page !== null; page = await next) {
          if (releaseFailure.failed) throw releaseFailure.error;
          if (sideFailure.failed) throw sideFailure.error;
          if (capped()) {
            stoppedCapped = true;
            break;
          }
          pages++;
          next = ahead();
          // The mark is compared with this run's own raises: those after the pages written so far are counted first.
          if (page.skip) await released.catch(() => undefined);
          if (page.skip && (!trusted || tally.doubt || !markAdvancedBy(markStart, await sync.marks.read(org.id), tally.raised))) {
            // Another writer wrote the organization's items since the run began (or a page prepared
            // before that was seen): its remembered pages may no longer be true, so this page and the
            // rest take the normal path.
            trusted = false;
            if (page.notModified) {
              // 304, with no body to apply: its remembered records are seen (the third party still
              // lists them) but not applied, like a snapshot older than the write (rule 2: stale).
              const remembered = memory.pages.get(page.index);
              if (remembered && collecting) for (const id of rememberedIds(remembered)) see(id);
              counts.fetched += remembered?.idCount ?? 0;
              counts.stale += remembered?.idCount ?? 0;
              continue;
            }
            // Prepared again, not remembered this time: what the first preparation counted and saw is undone.
            counts.fetched -= page.records.length;
            const remembered = memory.pages.get(page.index);
            for (const id of remembered ? rememberedIds(remembered) : []) seen.delete(id);
            for (const r of page.batch) seen.delete(r.externalId);
            page = prepare(page.index, page.facts, page.records);
          }
          const known = trusted ? memory.pages.get(page.index) : undefined;
          if (page.notModified && known) {
            // 304: the remembered page, unchanged.
            if (collecting) for (const id of rememberedIds(known)) see(id);
            counts.fetched += known.idCount;
            counts.unchanged += known.idCount;
            continue;
          }
          const { batch, invalid, facts, fingerprint, hashed } = page;
          if (known && page.skip) {
            // The same records as remembered, nothing written since: no item read, no write.
            counts.unchanged += page.size;
            keep({ ...known, ...facts, index: page.index, fingerprint });
            continue;
          }
          // A lease taken away (a purge, or another process after ours lapsed) is seen before this
          // page is written: confirmed (one Redis round trip) while the page is prepared and its write
          // mark raised, and its write waits for the answer (it writes nothing once the lease is lost).
          const confirming = lease.confirm();
          confirming.catch(() => undefined);
          applied++;
          let writing: PreparedUpserts;
          try {
            if (page.prepared && insertFirst) {
              writing = await page.prepared;
              held = null;
            } else {
              // Prepared ahead while the page before was written, which turned out not all new.
              if (page.prepared) await abandonHeld();
              // The page before may share items with this one: its locks are given back first (its
              // release is otherwise not waited for), so this page's lock wait is spent on others' writes only.
              await released.catch(() => undefined);
              // That release failed: the run fails before this page is written, as after a prepared page.
              if (releaseFailure.failed) throw releaseFailure.error;
              writing = await sync.remote.prepareUpserts(org.id, hashed, origin, { guard: lease, insertFirst, createBefore, marks: tally });
            }
          } catch (error) {
            // The lease lost is the reason the walk stops, whatever else failed meanwhile.
            await confirming;
            throw error;
          }
          if (insertFirst) next = prepareAhead(batch, next);
          const applying = writing.apply(confirming);
          // Counted before the answer: a write that fails still gives its locks back and raises the
          // mark after it, and the run ends only once that is done.
          released = Promise.allSettled([released, writing.released]).then((settled) => {
            for (const s of settled) if (s.status === 'rejected') throw s.reason;
          });
          released.catch((error: unknown) => {
            if (releaseFailure.failed) return;
            releaseFailure.failed = true;
            releaseFailure.error = error;
          });
          const result = await applying;
          // A page with nothing to write did not wait for the lease: the walk does.
          await confirming;
          insertFirst = batch.length > 0 && result.created === batch.length;
          if (result.created !== batch.length) allCreated = false;
          addCounts(counts, result);
          if (!incremental) {
            // Remembered as skippable only when every record now holds exactly as listed.
            const clean = invalid === 0 && result.deferred === 0 && result.created + result.updated + result.unchanged === batch.length;
            keep({ index: page.index, fingerprint: clean ? fingerprint : null, ...pageIds(clean ? batch.map((r) => r.externalId) : []), ...facts });
          }
          if (performance.now() - lastProgress > PROGRESS_EVERY_MS) {
            lastProgress = performance.now();
            recordProgress();
          }
        }
      } finally {
        // Stopped (done, capped, failed, or the lease lost): a page prepared ahead writes nothing and
        // gives its locks back; the run ends only once every written page's locks are released.
        stopping = true;
        await abandonHeld();
        await released.catch(() => undefined);
        await Promise.allSettled([saving, progress]);
        // A written page whose release failed (its organization's liveness could not be checked, or
        // its write mark was not raised after it and the store could not forget the pages instead)
        // fails the run, as it failed the page, whatever else ended the walk.
        // eslint-disable-next-line no-unsafe-finally
        if (releaseFailure.failed) throw releaseFailure.error;
        // Likewise a remembered page or the progress not written while the walk went on: it failed
        // the run when each was awaited before the next page, so it still does.
        // eslint-disable-next-line no-unsafe-finally
        if (sideFailure.failed) throw sideFailure.error;
      }
      if (stoppedCapped) {
        if (applied > 0) await entryChangedUnder();
        return await finish('partial', cappedMessage);
      }
    } catch (error) {
      // What was written before the run stopped follows a configuration changed meanwhile, as after a whole walk (best effort).
      if (applied > 0) await entryChangedUnder().catch(() => undefined);
      if (error instanceof LeaseLostError) {
        logger.warn('poll lost its lease; stopped before writing more', { runId, err: error.message });
        await runs.finish(runId, { status: 'partial', counts, pages, errors, message: `lost its lease (${error.message}); stopped before writing more; deletions skipped` });
        return { kind: 'done', runId, status: 'partial', counts };
      }
      if (!(error instanceof PollFetchError)) {
        await recordFailed(error);
        throw error;
      }
      // Never delete after a failed or partial fetch.
      const status: SyncRunStatus = pages > 0 ? 'partial' : 'failed';
      await commit(false).catch((e: Error) => logger.warn('poll could not record its page memory', { runId, err: e.message }));
      await runs.finish(runId, { status, counts, pages, errors, message: error.message });
      logger.warn('poll fetch failed', { runId, endpoint: entry.endpoint, err: error.message, transient: error.transient });
      return error.transient ? { kind: 'retry', runId, message: error.message } : { kind: 'done', runId, status, counts };
    }

    try {
      const changed = await entryChangedUnder();
      if (changed) return await finish('succeeded', changed);
    } catch (error) {
      await recordFailed(error);
      throw error;
    }
    if (!walk.complete) return finish('partial', `stopped at maxPages (${pages}); deletions skipped`);
    if (unidentified > 0) return finish('succeeded', `${unidentified} record(s) without a readable externalId; deletions skipped`);
    const duplicate = walkIds.duplicate;
    const shifted = walk.inconsistent ?? (duplicate !== null ? `externalId "${duplicate.slice(0, 100)}" appeared twice: the list shifted while it was read` : null);
    if (!tracking) return finish('succeeded', null, !shifted);
    if (shifted) return finish('succeeded', `${shifted}; deletions skipped`);
    if (capped()) return finish('partial', cappedMessage);
    // Every page as remembered, after a run whose deletion pass left nothing to do: the same
    // snapshot, nothing written since, so the pass would find nothing either.
    if (trusted && applied === 0 && pages === (head as PollHead).pages && (head as PollHead).passSettled) return finish('succeeded', null, true);
    try {
      await lease.confirm();
      // The check above can go stale while the pass runs (seconds, for a large entry): each batch is
      // written only while the organization is at the revision it read. When it moved, the same
      // check runs again and the pass goes on only when the entry's listing is as this run read it
      // (an unrelated change, a webhook added, does not stop it: a busy organization's passes would starve).
      const fence = {
        revision: listingAt,
        recheck: async () => {
          const changed = await entryChangedUnder();
          return changed ? { stop: changed } : { revision: listingAt };
        },
      };
      const verdict = await sync.remote.reconcileSnapshot(
        org.id,
        { entry: entry.id, seen, startedAt, twoMiss: needsTwoMisses(entry) },
        { guardRatio: this.deps.deleteGuardRatio, guard: lease, marks: tally, fence },
      );
      counts.deleted += verdict.deleted;
      if (verdict.held) return finish('attention', verdict.message);
      // Deleted nothing more once its snapshot was no longer the entry's: not settled.
      if (verdict.stopped) return finish('succeeded', verdict.message);
      const deferred = verdict.deferred > 0 ? `${verdict.deferred} vanished item(s) were being written by others; the next run considers them` : null;
      return finish('succeeded', deferred, verdict.deferred === 0 && verdict.missed === 0);
    } catch (error) {
      if (!(error instanceof LeaseLostError)) {
        await recordFailed(error);
        throw error;
      }
      await runs.finish(runId, { status: 'partial', counts, pages, errors, message: `lost its lease during the deletion pass (${error.message}); stopped` });
      return { kind: 'done', runId, status: 'partial', counts };
    }
  }
}
