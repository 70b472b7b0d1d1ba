import { Router, type Request } from 'express';
import type { Queue } from 'bullmq';
import { Result } from '@sapphire/result';
import { z } from 'zod';
import type { Delivery, SyncRun } from '@music/domain';
import type { OrganizationRepository, SyncRunRepository } from '@music/persistence';
import { JOB_NAMES, jobIds, type DeliverJob } from '@music/queue';
import { AppError, authUser, parseInput, sendResult } from '@music/platform';
import type { DeliveryRepository } from './delivery.repository';

const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
    before: z.coerce.date().optional(),
    since: z.coerce.date().optional(),
    until: z.coerce.date().optional(),
  })
  .strict();
const runQuery = listQuery.extend({ status: z.enum(['queued', 'running', 'succeeded', 'partial', 'failed', 'attention', 'skipped']).optional() });
const deliveryQuery = listQuery.extend({ status: z.enum(['pending', 'succeeded', 'failed', 'superseded']).optional() });

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
      const q = parseInput(runQuery, req.query, 'Query');
      if (q.isErr()) return Result.err(q.unwrapErr());
      const runs = await deps.runs.listForOrganization(org.unwrap(), q.unwrap());
      return Result.ok<Page<SyncRun>>({ items: runs, nextCursor: cursorOf(runs, q.unwrap().limit, (r) => r.queuedAt) });
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
    const q = parseInput(deliveryQuery, req.query, 'Query');
    if (q.isErr()) return sendResult(res, q);
    const items = await deps.deliveries.listForOrganization(org.unwrap(), q.unwrap());
    sendResult(res, Result.ok<Page<Delivery>>({ items, nextCursor: cursorOf(items, q.unwrap().limit, (d) => d.createdAt) }));
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
  const data: DeliverJob = { version: 1, organizationId, deliveryId: delivery.id };
  await deps.outputQueue.add(JOB_NAMES.deliver, data, { jobId, attempts: deps.deliveryAttempts, backoff: { type: 'delivery' } });
  return Result.ok({ ...delivery, status: 'pending' });
}

function cursorOf<T>(items: T[], limit: number, key: (item: T) => Date): string | null {
  const last = items[items.length - 1];
  return items.length === limit && last ? key(last).toISOString() : null;
}
