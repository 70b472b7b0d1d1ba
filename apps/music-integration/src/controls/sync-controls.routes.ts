import { Router } from 'express';
import type { Queue } from 'bullmq';
import { Result } from '@sapphire/result';
import { z } from 'zod';
import type { Organization } from '@music/domain';
import type { OrganizationRepository } from '@music/persistence';
import type { JobSettings } from '@music/queue';
import { AppError, parseInput, sendResult } from '@music/platform';
import type { SyncState } from '@music/sync-state';
import type { DeliveryRepository } from '../delivery/delivery.repository';
import type { SendTestEventUseCase } from './use-cases/send-test-event.use-case';
import type { OrganizationStatus, SyncControls } from './sync-controls';
import { ownedOrganization, replayDelivery } from '../history/sync-history.routes';

/** `POST /organization/:id/pause` body. */
export const pauseBodySchema = z
  .object({
    /** One polling entry; without it, the whole organization (polls and deliveries). */
    entryId: z.string().min(1).max(64).optional(),
    reason: z.string().trim().min(1).max(500).optional(),
  })
  .strict();

/** `POST /organization/:id/resume` body. */
export const resumeBodySchema = z.object({ entryId: z.string().min(1).max(64).optional() }).strict();

/** `POST /organization/:id/deliveries/replay` body: which finished deliveries to send again. */
export const bulkReplayBodySchema = z
  .object({
    /** `failed` (default): every delivery that gave up; `dead_lettered`: only those that ran out of attempts. */
    status: z.enum(['dead_lettered', 'failed']).default('failed'),
    webhookId: z.string().min(1).max(64).optional(),
    externalId: z.string().min(1).max(256).optional(),
    since: z.coerce.date().optional(),
    until: z.coerce.date().optional(),
    limit: z.number().int().min(1).max(1000).default(100),
  })
  .strict();

export interface SyncControlRoutesDeps {
  organizations: OrganizationRepository;
  controls: SyncControls;
  sendTestEvent: SendTestEventUseCase;
  deliveries: DeliveryRepository;
  sync: Pick<SyncState, 'items' | 'outbound'>;
  outputQueue: Queue;
  jobSettings: JobSettings;
}

function entryOf(org: Organization, entryId: string | undefined): Result<string | null, AppError> {
  if (entryId === undefined) return Result.ok(null);
  return org.polling.some((p) => p.id === entryId) ? Result.ok(entryId) : Result.err(new AppError('NOT_FOUND', 'Polling entry not found'));
}

/**
 * Sync controls of an organization the caller owns: its status, pause and resume, a test event to
 * an output webhook, and the bulk replay of failed deliveries.
 */
export function syncControlRoutes(deps: SyncControlRoutesDeps): Router {
  const router = Router();

  router.get('/organization/:id/status', async (req, res) => {
    const org = await ownedOrganization(req, deps.organizations);
    if (org.isErr()) return sendResult(res, org);
    sendResult(res, Result.ok<OrganizationStatus>(await deps.controls.status(org.unwrap())));
  });

  router.post('/organization/:id/pause', async (req, res) => {
    const found = await ownedOrganization(req, deps.organizations);
    if (found.isErr()) return sendResult(res, found);
    const org = found.unwrap();
    const body = parseInput(pauseBodySchema, req.body ?? {}, 'Pause');
    if (body.isErr()) return sendResult(res, body);
    const entry = entryOf(org, body.unwrap().entryId);
    if (entry.isErr()) return sendResult(res, entry);
    const entryId = entry.unwrap();
    // Pausing what is paused changes nothing (its reason and time stay; nobody is told twice).
    if (!(await deps.controls.isScopePaused(org.id, entryId))) await deps.controls.pause(org, entryId, body.unwrap().reason ?? null);
    sendResult(res, Result.ok(await deps.controls.status(org)));
  });

  router.post('/organization/:id/resume', async (req, res) => {
    const found = await ownedOrganization(req, deps.organizations);
    if (found.isErr()) return sendResult(res, found);
    const org = found.unwrap();
    const body = parseInput(resumeBodySchema, req.body ?? {}, 'Resume');
    if (body.isErr()) return sendResult(res, body);
    const entry = entryOf(org, body.unwrap().entryId);
    if (entry.isErr()) return sendResult(res, entry);
    await deps.controls.resume(org, entry.unwrap());
    sendResult(res, Result.ok(await deps.controls.status(org)));
  });

  router.post('/organization/:id/webhooks/:webhookId/test', async (req, res) => {
    const found = await ownedOrganization(req, deps.organizations);
    if (found.isErr()) return sendResult(res, found);
    sendResult(res, await deps.sendTestEvent.execute({ organization: found.unwrap(), webhookId: String(req.params['webhookId']) }));
  });

  router.post('/organization/:id/deliveries/replay', async (req, res) => {
    const found = await ownedOrganization(req, deps.organizations);
    if (found.isErr()) return sendResult(res, found);
    const org = found.unwrap();
    const body = parseInput(bulkReplayBodySchema, req.body ?? {}, 'Replay');
    if (body.isErr()) return sendResult(res, body);
    const { status, limit, ...filter } = body.unwrap();
    const matching = await deps.deliveries.listForOrganization(org.id, { ...filter, status: 'failed', ...(status === 'dead_lettered' ? { deadLettered: true } : {}), limit });
    let replayed = 0;
    let skipped = 0;
    // Oldest first; each by the single replay's rules (a newer change of the item, or a removed webhook: skipped).
    for (const delivery of matching.reverse()) {
      const outcome = await replayDelivery(org, delivery.id, deps);
      if (outcome.isOk()) replayed++;
      else skipped++;
    }
    sendResult(res, Result.ok({ replayed, skipped }), 202);
  });

  return router;
}
