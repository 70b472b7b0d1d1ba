import { Router } from 'express';
import type { Queue } from 'bullmq';
import { Result } from '@sapphire/result';
import { z } from 'zod';
import { itemStateOf, type Delivery, type HeldChange, type InventoryItem } from '@music/domain';
import type { InventoryRepository, OrganizationRepository } from '@music/persistence';
import { ensureJob, JOBS, type JobSettings } from '@music/queue';
import { AppError, currentContext, parseInput, sendResult } from '@music/platform';
import type { SyncState } from '@music/sync-state';
import type { DeliveryRepository } from '../delivery/delivery.repository';
import { ownedOrganization } from './sync-history.routes';

/** `GET /organization/:id/divergences` query. */
export const divergenceListQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }).strict();

export interface DivergenceRoutesDeps {
  organizations: OrganizationRepository;
  items: InventoryRepository;
  deliveries: DeliveryRepository;
  sync: Pick<SyncState, 'divergences'>;
  outputQueue: Queue;
  jobSettings: JobSettings;
}

/** One diverged item as the API shows it: ours, what the third party said meanwhile, what failed. */
export interface DivergenceApi {
  externalId: string;
  state: 'diverged' | 'delete-diverged';
  data: Record<string, unknown>;
  version: number;
  held: { op: HeldChange['op']; data: Record<string, unknown> | null; at: Date } | null;
  failedDeliveries: Array<Pick<Delivery, 'id' | 'webhookId' | 'method' | 'op' | 'attempts' | 'lastError' | 'updatedAt'>>;
}

function toDivergenceApi(item: InventoryItem, deliveries: Delivery[]): DivergenceApi {
  return {
    externalId: item.externalId,
    state: itemStateOf(item) as DivergenceApi['state'],
    data: item.data,
    version: item.version,
    held: item.held ? { op: item.held.op, data: item.held.data, at: item.held.at } : null,
    failedDeliveries: deliveries
      .filter((d) => d.status === 'failed')
      .map((d) => ({ id: d.id, webhookId: d.webhookId, method: d.method, op: d.op, attempts: d.attempts, lastError: d.lastError, updatedAt: d.updatedAt })),
  };
}

/**
 * Divergences (rule 5): local changes the third party never took, kept as they are until the
 * owner replays them (same `webhook-id`) or accepts the third party's version.
 */
export function divergenceRoutes(deps: DivergenceRoutesDeps): Router {
  const router = Router();

  router.get('/organization/:id/divergences', async (req, res) => {
    const org = await ownedOrganization(req, deps.organizations);
    if (org.isErr()) return sendResult(res, org);
    const q = parseInput(divergenceListQuerySchema, req.query, 'Query');
    if (q.isErr()) return sendResult(res, q);
    const items = await deps.items.listInStates(org.unwrap().id, ['diverged'], q.unwrap().limit);
    const listed: DivergenceApi[] = [];
    for (const item of items) listed.push(toDivergenceApi(item, await deps.deliveries.listForItem(item.id, item.version)));
    sendResult(res, Result.ok({ items: listed }));
  });

  router.post('/organization/:id/divergences/:externalId/replay', async (req, res) => {
    const found = await ownedOrganization(req, deps.organizations);
    if (found.isErr()) return sendResult(res, found);
    const org = found.unwrap();
    const outcome = await deps.sync.divergences.replay(org, String(req.params['externalId']));
    switch (outcome.kind) {
      case 'replaying': {
        // The failed jobs are still kept under the same ids: replaced by new ones, with every attempt.
        // A replay is caused by this request: the delivery lines carry its id.
        const { requestId } = currentContext();
        for (const d of outcome.deliveries) {
          await ensureJob(deps.outputQueue, JOBS.deliver, { version: 1, organizationId: org.id, deliveryId: d.id, externalId: d.externalId, ...(requestId ? { requestId } : {}) }, deps.jobSettings);
        }
        return sendResult(res, Result.ok({ externalId: outcome.applied.target.externalId, state: outcome.applied.transition.to, deliveries: outcome.deliveries.map((d) => d.id) }), 202);
      }
      case 'nothing-to-replay':
        return sendResult(res, Result.err(new AppError('CONFLICT', 'No failed delivery of this item can be sent again (its output webhooks were removed, or the organization is one-way); accept the remote version instead')));
      case 'not-diverged':
      case 'resolved':
        return sendResult(res, Result.err(new AppError('NOT_FOUND', 'No divergence for this externalId')));
      default: {
        const unreachable: never = outcome;
        throw new Error(`unknown outcome ${JSON.stringify(unreachable)}`);
      }
    }
  });

  router.post('/organization/:id/divergences/:externalId/accept-remote', async (req, res) => {
    const found = await ownedOrganization(req, deps.organizations);
    if (found.isErr()) return sendResult(res, found);
    const outcome = await deps.sync.divergences.acceptRemote(found.unwrap().id, String(req.params['externalId']));
    if (outcome.kind !== 'resolved') return sendResult(res, Result.err(new AppError('NOT_FOUND', 'No divergence for this externalId')));
    const after = outcome.applied.after;
    sendResult(res, Result.ok({ externalId: outcome.applied.target.externalId, state: outcome.applied.transition.to, data: after && !after.deleted ? after.data : null }));
  });

  return router;
}
