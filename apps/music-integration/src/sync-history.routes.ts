import { Router, type Request } from 'express';
import type { Queue } from 'bullmq';
import { Result } from '@sapphire/result';
import { z } from 'zod';
import type { Delivery, SyncRun } from '@music/domain';
import type { OrganizationRepository, SyncRunRepository } from '@music/persistence';
import { JOB_NAMES, jobIds, type DeliverJob } from '@music/queue';
import { addToContext, AppError, authUser, currentContext, parseInput, sendResult } from '@music/platform';
import type { DeliveryRepository } from './delivery.repository';

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
  status: z.enum(['pending', 'succeeded', 'failed', 'superseded']).optional(),
  externalId: z.string().min(1).max(256).optional(),
});

export interface SyncHistoryDeps {
  organizations: OrganizationRepository;
  runs: SyncRunRepository;
  deliveries: DeliveryRepository;
  outputQueue: Queue;
  deliveryAttempts: number;
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Sync runs and deliveries of an organization the caller owns; replay of a finished delivery. */
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
    sendResult(res, Result.ok<Page<Delivery>>({ items, nextCursor: cursorOf(items, filter.limit, (d) => d.createdAt) }));
  });

  router.get('/organization/:id/deliveries/:deliveryId', async (req, res) => {
    const org = await owned(req, deps);
    if (org.isErr()) return sendResult(res, org);
    const delivery = await deps.deliveries.findForOrganization(org.unwrap(), String(req.params['deliveryId']));
    sendResult(res, delivery ? Result.ok(delivery) : Result.err(new AppError('NOT_FOUND', 'Delivery not found')));
  });

  router.post('/organization/:id/deliveries/:deliveryId/replay', async (req, res) => {
    const org = await owned(req, deps);
    if (org.isErr()) return sendResult(res, org);
    sendResult(res, await replay(org.unwrap(), String(req.params['deliveryId']), deps), 202);
  });

  return router;
}

async function owned(req: Request, deps: SyncHistoryDeps): Promise<Result<string, AppError>> {
  const org = await deps.organizations.findOwned(authUser(req).id, String(req.params['id']));
  // The request's log lines name the organization from here on.
  if (org) addToContext({ orgId: org.id });
  return org ? Result.ok(org.id) : Result.err(new AppError('NOT_FOUND', 'Organization not found'));
}

/**
 * Sends a finished delivery again, with the same `webhook-id` (so a receiver that already has it
 * can drop it). Refused when a newer change of the item exists: replaying would send an older state.
 */
async function replay(organizationId: string, deliveryId: string, deps: SyncHistoryDeps): Promise<Result<Delivery, AppError>> {
  const delivery = await deps.deliveries.findForOrganization(organizationId, deliveryId);
  if (!delivery) return Result.err(new AppError('NOT_FOUND', 'Delivery not found'));
  if (delivery.status === 'pending') return Result.err(new AppError('CONFLICT', 'Delivery is still pending'));
  if (await deps.deliveries.hasNewer(delivery)) {
    return Result.err(new AppError('CONFLICT', 'A newer change of this item was delivered or is pending; replaying would send an older state'));
  }
  await deps.deliveries.setStatus(delivery.id, 'pending', ['failed', 'succeeded', 'superseded']);
  const jobId = jobIds.deliver(delivery.id);
  const existing = await deps.outputQueue.getJob(jobId);
  if (existing) await existing.remove().catch(() => undefined);
  // A replay is caused by this request: its delivery lines carry this request's id.
  const { requestId } = currentContext();
  const data: DeliverJob = { version: 1, organizationId, deliveryId: delivery.id, externalId: delivery.externalId, ...(requestId ? { requestId } : {}) };
  await deps.outputQueue.add(JOB_NAMES.deliver, data, { jobId, attempts: deps.deliveryAttempts, backoff: { type: 'delivery' } });
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
