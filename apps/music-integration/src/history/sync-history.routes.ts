import { Router, type Request } from 'express';
import { z } from 'zod';
import { DELIVERY_STATUSES, SYNC_RUN_STATUSES, type Delivery } from '@music/domain';
import { authUser, maskUrl, parseInput, sendResult } from '@music/platform';
import { decodeCursor, type Page } from './history-page';
import type { FindOwnedOrganizationCommand, FindOwnedOrganizationUseCase } from './use-cases/find-owned-organization.use-case';
import type { GetDeliveryUseCase } from './use-cases/get-delivery.use-case';
import type { GetSyncRunUseCase } from './use-cases/get-sync-run.use-case';
import type { ListDeliveriesUseCase } from './use-cases/list-deliveries.use-case';
import type { ListSyncRunsUseCase } from './use-cases/list-sync-runs.use-case';
import type { ReplayDeliveryUseCase } from './use-cases/replay-delivery.use-case';

/** `nextCursor`: the sort key (time and id) of a page's last entry, opaque to clients. */
const cursorParam = z
  .string()
  .max(200)
  .transform((value, ctx) => {
    const decoded = decodeCursor(value);
    if (!decoded) {
      ctx.addIssue({ code: 'custom', message: 'unknown cursor (pass the nextCursor of the previous page)' });
      return z.NEVER;
    }
    return decoded;
  });

const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    /** The previous page's `nextCursor`. */
    cursor: cursorParam.optional(),
    before: z.coerce.date().optional(),
    since: z.coerce.date().optional(),
    until: z.coerce.date().optional(),
  })
  .strict();
/** `GET /organization/:id/sync-runs` query: newest first, filtered by status and time. */
export const syncRunListQuerySchema = listQuery.extend({ status: z.enum(SYNC_RUN_STATUSES).optional() });
/** `GET /organization/:id/deliveries` query: newest first, filtered by status, item and time. */
export const deliveryListQuerySchema = listQuery.extend({
  status: z.enum(DELIVERY_STATUSES).optional(),
  externalId: z.string().min(1).max(256).optional(),
});

/** The use cases behind the sync history routes, one per route (and the ownership check they all start with). */
export interface SyncHistoryUseCases {
  findOwnedOrganization: FindOwnedOrganizationUseCase;
  listSyncRuns: ListSyncRunsUseCase;
  getSyncRun: GetSyncRunUseCase;
  listDeliveries: ListDeliveriesUseCase;
  getDelivery: GetDeliveryUseCase;
  replayDelivery: ReplayDeliveryUseCase;
}

/** The caller and the organization of an `/organization/:id/...` path. */
export function ownedOrganizationOf(req: Request): FindOwnedOrganizationCommand {
  return { ownerId: authUser(req).id, organizationId: String(req.params['id']) };
}

/** A delivery as shown: its URL without the credentials it may carry. */
const deliveryToApi = (delivery: Delivery): Delivery => ({ ...delivery, url: maskUrl(delivery.url) });
const deliveryPageToApi = (page: Page<Delivery>): Page<Delivery> => ({ ...page, items: page.items.map(deliveryToApi) });

/** Sync runs and deliveries of an organization the caller owns; replay of a finished delivery. */
export function syncHistoryRoutes(use: SyncHistoryUseCases): Router {
  const router = Router();
  const owned = (req: Request) => use.findOwnedOrganization.execute(ownedOrganizationOf(req));

  router.get('/organization/:id/sync-runs', async (req, res) => {
    const org = await owned(req);
    if (org.isErr()) return sendResult(res, org);
    const q = parseInput(syncRunListQuerySchema, req.query, 'Query');
    if (q.isErr()) return sendResult(res, q);
    const { cursor, ...filter } = q.unwrap();
    sendResult(res, await use.listSyncRuns.execute({ organization: org.unwrap(), filter: { ...filter, ...(cursor ? { after: cursor } : {}) } }));
  });

  router.get('/organization/:id/sync-runs/:runId', async (req, res) => {
    const org = await owned(req);
    if (org.isErr()) return sendResult(res, org);
    sendResult(res, await use.getSyncRun.execute({ organization: org.unwrap(), runId: String(req.params['runId']) }));
  });

  router.get('/organization/:id/deliveries', async (req, res) => {
    const org = await owned(req);
    if (org.isErr()) return sendResult(res, org);
    const q = parseInput(deliveryListQuerySchema, req.query, 'Query');
    if (q.isErr()) return sendResult(res, q);
    const { cursor, ...filter } = q.unwrap();
    sendResult(res, await use.listDeliveries.execute({ organization: org.unwrap(), filter: { ...filter, ...(cursor ? { after: cursor } : {}) } }), 200, deliveryPageToApi);
  });

  router.get('/organization/:id/deliveries/:deliveryId', async (req, res) => {
    const org = await owned(req);
    if (org.isErr()) return sendResult(res, org);
    sendResult(res, await use.getDelivery.execute({ organization: org.unwrap(), deliveryId: String(req.params['deliveryId']) }), 200, deliveryToApi);
  });

  router.post('/organization/:id/deliveries/:deliveryId/replay', async (req, res) => {
    const org = await owned(req);
    if (org.isErr()) return sendResult(res, org);
    sendResult(res, await use.replayDelivery.execute({ organization: org.unwrap(), deliveryId: String(req.params['deliveryId']) }), 202, deliveryToApi);
  });

  return router;
}
