import { Router } from 'express';
import { z } from 'zod';
import { parseInput, sendResult } from '@music/platform';
import { ownedOrganizationOf } from './sync-history.routes';
import type { AcceptRemoteVersionUseCase } from './use-cases/accept-remote-version.use-case';
import type { FindOwnedOrganizationUseCase } from './use-cases/find-owned-organization.use-case';
import type { ListDivergencesUseCase } from './use-cases/list-divergences.use-case';
import type { ReplayDivergenceUseCase } from './use-cases/replay-divergence.use-case';

/** `GET /organization/:id/divergences` query. */
export const divergenceListQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }).strict();

/** The use cases behind the divergence routes, one per route (and the ownership check they all start with). */
export interface DivergenceUseCases {
  findOwnedOrganization: FindOwnedOrganizationUseCase;
  listDivergences: ListDivergencesUseCase;
  replayDivergence: ReplayDivergenceUseCase;
  acceptRemoteVersion: AcceptRemoteVersionUseCase;
}

/**
 * Divergences (rule 5): local changes the third party never took, kept as they are until the
 * owner replays them (same `webhook-id`) or accepts the third party's version.
 */
export function divergenceRoutes(use: DivergenceUseCases): Router {
  const router = Router();

  router.get('/organization/:id/divergences', async (req, res) => {
    const org = await use.findOwnedOrganization.execute(ownedOrganizationOf(req));
    if (org.isErr()) return sendResult(res, org);
    const q = parseInput(divergenceListQuerySchema, req.query, 'Query');
    if (q.isErr()) return sendResult(res, q);
    sendResult(res, await use.listDivergences.execute({ organization: org.unwrap(), limit: q.unwrap().limit }));
  });

  router.post('/organization/:id/divergences/:externalId/replay', async (req, res) => {
    const org = await use.findOwnedOrganization.execute(ownedOrganizationOf(req));
    if (org.isErr()) return sendResult(res, org);
    sendResult(res, await use.replayDivergence.execute({ organization: org.unwrap(), externalId: String(req.params['externalId']) }), 202);
  });

  router.post('/organization/:id/divergences/:externalId/accept-remote', async (req, res) => {
    const org = await use.findOwnedOrganization.execute(ownedOrganizationOf(req));
    if (org.isErr()) return sendResult(res, org);
    sendResult(res, await use.acceptRemoteVersion.execute({ organization: org.unwrap(), externalId: String(req.params['externalId']) }));
  });

  return router;
}
