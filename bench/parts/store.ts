import { contentHash, inventoryItemId } from '@music/domain';
import { compileMapping } from '@music/mapping';
import type { InventoryItemDoc } from '@music/persistence';
import { openScope, round, type BenchContext } from '../context';
import { BENCH_MAPPINGS, BENCH_TRANSFORMS, recordsPage } from '../records';

/**
 * Not a target: the store's own costs for the operations the sync engine is built from, at the
 * collection size of the ingest part, so the analysis can say which ones grow with the collection.
 * `npm run bench -- --only store`.
 */
export async function runStore(ctx: BenchContext): Promise<{ store: Record<string, unknown> }> {
  const n = ctx.options.ingestRecords;
  const scope = await openScope(ctx, 'store');
  try {
    const mapping = compileMapping(BENCH_MAPPINGS as never, BENCH_TRANSFORMS as never);
    const items = scope.store.models.inventoryItems;
    const org = 'store-org';
    const docsOf = (page: number, size: number): InventoryItemDoc[] =>
      recordsPage(n, page, size).map((record) => {
        const m = mapping.toItem(record);
        if (!m.ok) throw new Error('a bench record failed mapping');
        const now = new Date();
        return {
          _id: inventoryItemId(org, m.externalId),
          organizationId: org,
          externalId: m.externalId,
          data: m.data,
          origin: 'remote',
          hash: contentHash(m.externalId, m.data),
          version: 0,
          state: 'synced',
          deleted: false,
          pendingEvent: null,
          awaiting: [],
          gaveUp: [],
          acked: false,
          fenceAt: null,
          held: null,
          remoteKnown: true,
          seenBy: [],
          missedBy: [],
          rev: 0,
          createdAt: now,
          updatedAt: now,
        };
      });
    const time = async (what: () => Promise<unknown>): Promise<number> => {
      const t = performance.now();
      await what();
      return performance.now() - t;
    };
    ctx.log(`store: ${n} items, then the engine's primitive operations on them`);
    let insertMs = 0;
    for (let page = 1; (page - 1) * 1000 < n; page++) {
      const docs = docsOf(page, 1000);
      insertMs += await time(() => items.insertMany(docs, { ordered: false, lean: true }));
    }
    const ids = Array.from({ length: 1000 }, (_, i) => inventoryItemId(org, `rec-${Math.floor((i * n) / 1000)}`));
    let findByIdMs = 0;
    for (const id of ids.slice(0, 20)) findByIdMs += await time(() => items.findOne({ _id: id }).lean());
    const findInMs = await time(() => items.find({ _id: { $in: ids } }, { hash: 1, version: 1 }).lean());
    const scanMs = await time(async () => {
      for await (const _ of items.find({ organizationId: org }, { _id: 1, hash: 1, version: 1 }).lean().cursor({ batchSize: 2000 })) void _;
    });
    let updateMs = 0;
    for (const id of ids.slice(0, 20)) updateMs += await time(() => items.updateOne({ _id: id }, { $set: { remoteKnown: true } }));
    const existsMs = await time(() => items.exists({ organizationId: 'no-such-org' }));
    const store = {
      items: n,
      insertManyPer1000Ms: round(insertMs / Math.ceil(n / 1000), 1),
      insertUsPerDoc: round((insertMs * 1000) / n, 1),
      findOneByIdMs: round(findByIdMs / 20, 1),
      findIn1000IdsMs: round(findInMs, 0),
      scanOrganizationMs: round(scanMs, 0),
      scanUsPerDoc: round((scanMs * 1000) / n, 1),
      updateOneByIdMs: round(updateMs / 20, 1),
      existsNoMatchMs: round(existsMs, 1),
    };
    ctx.log(`store: ${JSON.stringify(store)}`);
    return { store };
  } finally {
    await scope.close();
  }
}
