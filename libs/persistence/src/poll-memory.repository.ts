import { isDuplicateKey, refusedDuplicates } from './duplicate-keys';
import { collectionOf, type Models, type PollMemoryDoc } from './models';
import { OrganizationRepository } from './organization.repository';

/** What a poll remembers of one polling entry as a whole (docs/sync-model.md, "Unchanged pages skip the store"). */
export interface PollHead {
  /** The organization's write mark the remembered pages are true at; null: in doubt. */
  mark: string | null;
  /** The entry's fetch settings and the mappings the pages were recorded with. */
  configKey: string;
  pages: number;
  /** The last walk was complete and consistent and left no deletion work (held, deferred, half-missed). */
  passSettled: boolean;
  /** Incremental polling: the highest cursor value seen (null: none yet). */
  cursor: string | number | null;
  runsSinceFull: number;
  /** Raised whenever the organization's remembered pages are forgotten (see `saveHead`). */
  gen: number;
}

/** What the poll walk learns of one page's answer, and what a 304 needs to continue the walk. */
export interface PageFacts {
  /** SHA-256 of the answer's body as received (null: a 304, or not known). */
  bodyHash: string | null;
  etag: string | null;
  lastModified: string | null;
  /** The next cursor (cursor pagination), null when the page ended the walk. */
  next: string | null;
  /** Records in the answer (before the overlap record was taken off). */
  fetched: number;
  total: number | null;
  /** Identities of its first and last record, and whether the first was the overlap with the previous page (the offset walk's check). */
  first: string | null;
  last: string | null;
  trimmed: boolean;
}

/** One remembered page: its facts, its records' fingerprint (null: not skippable) and their externalIds. */
export interface RememberedPage extends PageFacts {
  index: number;
  fingerprint: string | null;
  /**
   * Its records' externalIds as stored, the JSON text of an array (`rememberedIds` decodes it): a
   * run holds every remembered page of its entry, and a million ids as strings in arrays would
   * take several times the memory of their text.
   */
  idsJson: string;
  /** How many externalIds `idsJson` lists. */
  idCount: number;
}

/** A remembered page with these externalIds (the form `RememberedPage` keeps them in). */
export function pageIds(ids: readonly string[]): Pick<RememberedPage, 'idsJson' | 'idCount'> {
  return { idsJson: JSON.stringify(ids), idCount: ids.length };
}

/** The externalIds of a remembered page, decoded from its text (a page's worth, when they are needed). */
export function rememberedIds(page: Pick<RememberedPage, 'idsJson'>): string[] {
  return JSON.parse(page.idsJson) as string[];
}

// Statements per write command: the development store holds a pool connection per statement (see UPDATE_CHUNK in @music/sync-state).
const CHUNK = 4;

const headId = (organizationId: string, pollingId: string): string => `${organizationId}:${pollingId}:head`;
const pageId = (organizationId: string, pollingId: string, index: number): string => `${organizationId}:${pollingId}:p${index}`;

/** The poll memory of each polling entry (`poll_memory`): not item state, only what lets a poll skip unchanged pages. */
export class PollMemoryRepository {
  private readonly organizations: OrganizationRepository;

  constructor(private readonly models: Pick<Models, 'pollMemory' | 'organizations'>) {
    this.organizations = new OrganizationRepository(models);
  }

  /** The head and every remembered page of an entry, in one query. */
  async read(organizationId: string, pollingId: string): Promise<{ head: PollHead | null; pages: Map<number, RememberedPage> }> {
    const docs = await this.models.pollMemory.find({ organizationId, pollingId }).batchSize(100_000).lean<PollMemoryDoc[]>();
    let head: PollHead | null = null;
    const pages = new Map<number, RememberedPage>();
    for (const d of docs) {
      if (d.kind === 'head') {
        head = { mark: d.mark ?? null, configKey: d.configKey ?? '', pages: d.pages ?? 0, passSettled: d.passSettled === true, cursor: d.cursor ?? null, runsSinceFull: d.runsSinceFull ?? 0, gen: d.gen ?? 0 };
      } else if (typeof d.index === 'number') {
        pages.set(d.index, {
          index: d.index,
          fingerprint: d.fingerprint ?? null,
          bodyHash: d.bodyHash ?? null,
          idsJson: d.idsJson ?? '[]',
          // Pages saved before the count was stored: counted once here (the decoded ids are not kept).
          idCount: d.idCount ?? (d.idsJson ? (JSON.parse(d.idsJson) as string[]).length : 0),
          etag: d.etag ?? null,
          lastModified: d.lastModified ?? null,
          next: d.next ?? null,
          fetched: d.fetched ?? 0,
          total: d.total ?? null,
          first: d.first ?? null,
          last: d.last ?? null,
          trimmed: d.trimmed === true,
        });
      }
    }
    return { head, pages };
  }

  /**
   * Writes these pages. Those not `stored` when the run read the memory are inserted, in one
   * command, and only the ones another writer stored meanwhile are replaced: an insert costs the
   * store no lookup, where a replace on a store whose lookups scan reads the whole collection of
   * pages, which a first run of a large entry would pay once per page (docs/performance.md, "1. Ingest").
   */
  async savePages(organizationId: string, pollingId: string, pages: readonly RememberedPage[], stored: (index: number) => boolean = () => true): Promise<void> {
    const docOf = (p: RememberedPage): PollMemoryDoc => ({ _id: pageId(organizationId, pollingId, p.index), organizationId, pollingId, kind: 'page', ...p });
    // Whether a page may have been created: then the organization's liveness is checked after.
    let created = 0;
    let inserted = false;
    try {
      const fresh = pages.filter((p) => !stored(p.index)).map(docOf);
      const replaced = pages.filter((p) => stored(p.index)).map(docOf);
      if (fresh.length > 0) {
        inserted = true;
        let refused = new Set<string>();
        try {
          await collectionOf(this.models.pollMemory).insertMany(fresh, { ordered: false });
        } catch (error) {
          refused = refusedDuplicates(
            error,
            fresh.map((d) => d._id),
          );
        }
        created += fresh.length - refused.size;
        replaced.push(...fresh.filter((d) => refused.has(d._id)));
      }
      for (let i = 0; i < replaced.length; i += CHUNK) {
        const ops = replaced.slice(i, i + CHUNK).map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } }));
        created += (await this.models.pollMemory.bulkWrite(ops, { ordered: false })).upsertedCount;
      }
    } catch (error) {
      // Some pages may have been created all the same.
      await this.removeIfOrganizationGone(organizationId);
      throw error;
    }
    // Pages only replaced need no check: they exist, so the purge's pass is still to come, or they
    // were created after it by a write that checked. An insert's answer may not say which it
    // created (a duplicate reported without its index): then it is checked all the same.
    if (created > 0 || inserted) await this.removeIfOrganizationGone(organizationId);
  }

  /** Forgets the pages at `from` and after (a walk that ended earlier). */
  async dropPagesFrom(organizationId: string, pollingId: string, from: number): Promise<void> {
    await this.models.pollMemory.deleteMany({ organizationId, pollingId, kind: 'page', index: { $gte: from } });
  }

  /**
   * The entry's head, created (in doubt) when it has none: it must exist before a run reads the
   * write mark, so that a writer forgetting the organization's pages meanwhile finds it.
   */
  async ensureHead(organizationId: string, pollingId: string): Promise<PollHead> {
    const head: PollHead = { mark: null, configKey: '', pages: 0, passSettled: false, cursor: null, runsSinceFull: 0, gen: 0 };
    const doc: PollMemoryDoc = { _id: headId(organizationId, pollingId), organizationId, pollingId, kind: 'head', ...head };
    try {
      await this.models.pollMemory.create(doc);
    } catch (error) {
      if (isDuplicateKey(error)) return (await this.read(organizationId, pollingId)).head ?? head;
      await this.removeIfOrganizationGone(organizationId);
      throw error;
    }
    await this.removeIfOrganizationGone(organizationId);
    return head;
  }

  /** Saves the head only if nothing forgot the pages since the run read it (`gen` unchanged); false otherwise. */
  async saveHead(organizationId: string, pollingId: string, head: PollHead): Promise<boolean> {
    const doc: PollMemoryDoc = { _id: headId(organizationId, pollingId), organizationId, pollingId, kind: 'head', ...head };
    const result = await this.models.pollMemory.replaceOne({ _id: doc._id, gen: head.gen }, doc);
    return result.matchedCount === 1;
  }

  /**
   * After a write that may have created memory: the organization's memory is removed again when the
   * organization is no longer live (marked deleted, or gone), since a poll under way when it was
   * deleted may write after its purge's pass (docs/sync-model.md, "Deleting an organization").
   */
  private async removeIfOrganizationGone(organizationId: string): Promise<void> {
    if (await this.organizations.isLive(organizationId)) return;
    await this.models.pollMemory.deleteMany({ organizationId });
  }

  /** Forgets the remembered pages of every entry of an organization (their runs take the normal path once). */
  async forgetOrganization(organizationId: string): Promise<void> {
    await this.models.pollMemory.updateMany({ organizationId, kind: 'head' }, { $set: { mark: null }, $inc: { gen: 1 } });
  }
}
