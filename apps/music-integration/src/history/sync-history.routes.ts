import { Router, type Request } from 'express';
import type { Queue } from 'bullmq';
import { Result } from '@sapphire/result';
import { z } from 'zod';
import { DELIVERY_STATUSES, webhookTakes, type Delivery, type Organization, type SyncRun } from '@music/domain';
import type { OrganizationRepository, SyncRunRepository } from '@music/persistence';
import { ensureJob, JOBS, type JobSettings } from '@music/queue';
import { addToContext, AppError, authUser, currentContext, maskUrl, parseInput, sendResult } from '@music/platform';
import type { SyncState } from '@music/sync-state';
import type { DeliveryRepository } from '../delivery/delivery.repository';

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
export const syncRunListQuerySchema = listQuery.extend({ status: z.enum(['queued', 'running', 'succeeded', 'partial', 'failed', 'attention', 'skipped']).optional() });
/** `GET /organization/:id/deliveries` query: newest first, filtered by status, item and time. */
export const deliveryListQuerySchema = listQuery.extend({
  status: z.enum(DELIVERY_STATUSES).optional(),
  externalId: z.string().min(1).max(256).optional(),
});

export interface SyncHistoryDeps {
  organizations: OrganizationRepository;
  runs: SyncRunRepository;
  deliveries: DeliveryRepository;
  sync: Pick<SyncState, 'items' | 'outbound'>;
  outputQueue: Queue;
  jobSettings: JobSettings;
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Sync runs and deliveries of an organization the caller owns; replay of a finished delivery. */
/** A delivery as shown: its URL without the credentials it may carry. */
const deliveryToApi = (delivery: Delivery): Delivery => ({ ...delivery, url: maskUrl(delivery.url) });

export function syncHistoryRoutes(deps: SyncHistoryDeps): Router {
  const router = Router();

  router.get('/organization/:id/sync-runs', async (req, res) => {
    const result = await owned(req, deps).then(async (org) => {
      if (org.isErr()) return Result.err(org.unwrapErr());
      const q = parseInput(syncRunListQuerySchema, req.query, 'Query');
      if (q.isErr()) return Result.err(q.unwrapErr());
      const { cursor, ...filter } = q.unwrap();
      const runs = await deps.runs.listForOrganization(org.unwrap(), { ...filter, ...(cursor ? { after: cursor } : {}) });
      return Result.ok<Page<SyncRun>>({ items: runs, nextCursor: cursorOf(runs, filter.limit, (r) => r.queuedAt) });
    });
    sendResult(res, result);
  });

  router.get('/organization/:id/sync-runs/:runId', async (req, res) => {
    const org = await owned(req, deps);
    if (org.isErr()) return sendResult(res, org);
    const run = await deps.runs.findForOrganization(org.unwrap(), String(req.params['runId']));
    sendResult(res, run ? Result.ok(run) : Result.err(new AppError('NOT_FOUND', 'Sync run not found')));
  });

  router.get('/organization/:id/deliveries', async (req, res) => {
    const org = await owned(req, deps);
    if (org.isErr()) return sendResult(res, org);
    const q = parseInput(deliveryListQuerySchema, req.query, 'Query');
    if (q.isErr()) return sendResult(res, q);
    const { cursor, ...filter } = q.unwrap();
    const items = await deps.deliveries.listForOrganization(org.unwrap(), { ...filter, ...(cursor ? { after: cursor } : {}) });
    sendResult(res, Result.ok<Page<Delivery>>({ items: items.map(deliveryToApi), nextCursor: cursorOf(items, filter.limit, (d) => d.createdAt) }));
  });

  router.get('/organization/:id/deliveries/:deliveryId', async (req, res) => {
    const org = await owned(req, deps);
    if (org.isErr()) return sendResult(res, org);
    const delivery = await deps.deliveries.findForOrganization(org.unwrap(), String(req.params['deliveryId']));
    sendResult(res, delivery ? Result.ok(deliveryToApi(delivery)) : Result.err(new AppError('NOT_FOUND', 'Delivery not found')));
  });

  router.post('/organization/:id/deliveries/:deliveryId/replay', async (req, res) => {
    const org = await ownedOrganization(req, deps.organizations);
    if (org.isErr()) return sendResult(res, org);
    sendResult(res, await replayDelivery(org.unwrap(), String(req.params['deliveryId']), deps), 202, deliveryToApi);
  });

  return router;
}

/** The organization of the path if the caller owns it (NOT_FOUND otherwise, whoever owns it). */
export async function ownedOrganization(req: Request, organizations: OrganizationRepository): Promise<Result<Organization, AppError>> {
  const org = await organizations.findOwned(authUser(req).id, String(req.params['id']));
  // The request's log lines name the organization from here on.
  if (org) addToContext({ orgId: org.id });
  return org ? Result.ok(org) : Result.err(new AppError('NOT_FOUND', 'Organization not found'));
}

async function owned(req: Request, deps: SyncHistoryDeps): Promise<Result<string, AppError>> {
  return (await ownedOrganization(req, deps.organizations)).map((org) => org.id);
}

/**
 * Sends a finished delivery again, with the same `webhook-id` (so a receiver that already has it
 * can drop it), to its webhook's current URL. Refused when a newer change of the item exists
 * (replaying would send an older state) or when its webhook no longer takes it.
 */
export async function replayDelivery(
  org: Organization,
  deliveryId: string,
  deps: Pick<SyncHistoryDeps, 'deliveries' | 'sync' | 'outputQueue' | 'jobSettings'>,
): Promise<Result<Delivery, AppError>> {
  const delivery = await deps.deliveries.findForOrganization(org.id, deliveryId);
  if (!delivery) return Result.err(new AppError('NOT_FOUND', 'Delivery not found'));
  if (delivery.status === 'pending') return Result.err(new AppError('CONFLICT', 'Delivery is still pending'));
  const item = await deps.sync.items.read(delivery.itemId);
  if (!item || item.version !== delivery.version || item.pendingEvent !== null) {
    return Result.err(new AppError('CONFLICT', 'A newer change of this item was delivered or is pending; replaying would send an older state'));
  }
  const webhook = org.webhooks.find((w) => w.id === delivery.webhookId);
  if (org.synchronization !== 'two-way' || !webhook || !webhookTakes(webhook, delivery.op)) {
    return Result.err(new AppError('CONFLICT', 'The output webhook of this delivery was removed (or the organization is one-way); there is nowhere to send it'));
  }
  if (!(await deps.sync.outbound.replay(item, [delivery]))) return Result.err(new AppError('CONFLICT', 'The item changed meanwhile; read it again'));
  // A replay is caused by this request: its delivery lines carry this request's id.
  const { requestId } = currentContext();
  await ensureJob(deps.outputQueue, JOBS.deliver, { version: 1, organizationId: org.id, deliveryId: delivery.id, externalId: delivery.externalId, ...(requestId ? { requestId } : {}) }, deps.jobSettings);
  return Result.ok({ ...delivery, status: 'pending' });
}

function cursorOf<T extends { id: string }>(items: T[], limit: number, key: (item: T) => Date): string | null {
  const last = items[items.length - 1];
  return items.length === limit && last ? Buffer.from(JSON.stringify([key(last).toISOString(), last.id])).toString('base64url') : null;
}

function decodeCursor(cursor: string): { at: Date; id: string } | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || typeof value[0] !== 'string' || typeof value[1] !== 'string') return null;
    const at = new Date(value[0]);
    return Number.isNaN(at.getTime()) ? null : { at, id: value[1] };
  } catch {
    return null;
  }
}
