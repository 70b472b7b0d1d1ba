import { Router } from 'express';
import { z } from 'zod';
import { parseInput, sendResult } from '@music/platform';
import { ownedOrganizationOf } from '../history/sync-history.routes';
import type { FindOwnedOrganizationUseCase } from '../history/use-cases/find-owned-organization.use-case';
import type { GetSyncStatusUseCase } from './use-cases/get-sync-status.use-case';
import type { PauseSyncUseCase } from './use-cases/pause-sync.use-case';
import type { ReplayDeliveriesUseCase } from './use-cases/replay-deliveries.use-case';
import type { ResumeSyncUseCase } from './use-cases/resume-sync.use-case';
import type { SendTestEventUseCase } from './use-cases/send-test-event.use-case';

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

/** The use cases behind the sync control routes, one per route (and the ownership check they all start with). */
export interface SyncControlUseCases {
  findOwnedOrganization: FindOwnedOrganizationUseCase;
  getSyncStatus: GetSyncStatusUseCase;
  pauseSync: PauseSyncUseCase;
  resumeSync: ResumeSyncUseCase;
  sendTestEvent: SendTestEventUseCase;
  replayDeliveries: ReplayDeliveriesUseCase;
}

/**
 * Sync controls of an organization the caller owns: its status, pause and resume, a test event to
 * an output webhook, and the bulk replay of failed deliveries.
 */
export function syncControlRoutes(use: SyncControlUseCases): Router {
  const router = Router();

  router.get('/organization/:id/status', async (req, res) => {
    const org = await use.findOwnedOrganization.execute(ownedOrganizationOf(req));
    if (org.isErr()) return sendResult(res, org);
    sendResult(res, await use.getSyncStatus.execute({ organization: org.unwrap() }));
  });

  router.post('/organization/:id/pause', async (req, res) => {
    const org = await use.findOwnedOrganization.execute(ownedOrganizationOf(req));
    if (org.isErr()) return sendResult(res, org);
    const body = parseInput(pauseBodySchema, req.body ?? {}, 'Pause');
    if (body.isErr()) return sendResult(res, body);
    sendResult(res, await use.pauseSync.execute({ organization: org.unwrap(), ...body.unwrap() }));
  });

  router.post('/organization/:id/resume', async (req, res) => {
    const org = await use.findOwnedOrganization.execute(ownedOrganizationOf(req));
    if (org.isErr()) return sendResult(res, org);
    const body = parseInput(resumeBodySchema, req.body ?? {}, 'Resume');
    if (body.isErr()) return sendResult(res, body);
    sendResult(res, await use.resumeSync.execute({ organization: org.unwrap(), ...body.unwrap() }));
  });

  router.post('/organization/:id/webhooks/:webhookId/test', async (req, res) => {
    const org = await use.findOwnedOrganization.execute(ownedOrganizationOf(req));
    if (org.isErr()) return sendResult(res, org);
    sendResult(res, await use.sendTestEvent.execute({ organization: org.unwrap(), webhookId: String(req.params['webhookId']) }));
  });

  router.post('/organization/:id/deliveries/replay', async (req, res) => {
    const org = await use.findOwnedOrganization.execute(ownedOrganizationOf(req));
    if (org.isErr()) return sendResult(res, org);
    const body = parseInput(bulkReplayBodySchema, req.body ?? {}, 'Replay');
    if (body.isErr()) return sendResult(res, body);
    sendResult(res, await use.replayDeliveries.execute({ organization: org.unwrap(), ...body.unwrap() }), 202);
  });

  return router;
}
