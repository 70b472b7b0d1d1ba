import type { Router } from 'express';
import { z } from 'zod';
import { parseInput, sendResult } from '@music/platform';
import { Result } from '@sapphire/result';
import { isNamedNamespace, stateOf } from './namespace-state';
import type { ClearFaultsUseCase } from './use-cases/clear-faults.use-case';
import type { GetFaultsUseCase } from './use-cases/get-faults.use-case';
import type { ResetNamespacesUseCase } from './use-cases/reset-namespaces.use-case';
import type { SetFaultsUseCase } from './use-cases/set-faults.use-case';

// TEST-ONLY endpoints: they let a test make the fake third party slow or failing on purpose.
// They exist because this app is a test double; a real service would never expose them.

export const faultsSchema = z
  .object({
    /** How many matching calls to affect; omitted = every call until DELETE /_faults. */
    failNext: z.number().int().min(1).max(1_000_000).optional(),
    status: z.number().int().min(400).max(599).optional(),
    delayMs: z.number().int().min(0).max(30_000).optional(),
    retryAfterSeconds: z.number().int().min(0).max(86_400).optional(),
    target: z.enum(['sync', 'music', 'all']).default('all'),
  })
  .refine((f) => f.failNext !== undefined || f.status !== undefined || f.delayMs !== undefined, {
    message: 'give at least one of failNext, status, delayMs',
  });

/** The use cases behind /_faults and /_reset. */
export interface FaultUseCases {
  setFaults: SetFaultsUseCase;
  getFaults: GetFaultsUseCase;
  clearFaults: ClearFaultsUseCase;
  resetNamespaces: ResetNamespacesUseCase;
}

/**
 * PUT/GET/DELETE /_faults (the namespace's faults) and POST /_reset: unprefixed, it empties the
 * default namespace and forgets every named one; under /ns/<name>, it empties that namespace.
 */
export function faultRoutes(router: Router, use: FaultUseCases): void {
  router.put('/_faults', (req, res) => {
    const state = stateOf(res);
    const result = parseInput(faultsSchema, req.body, 'Faults').map((faults) => use.setFaults.execute({ state, faults }));
    sendResult(res, result, 200, (plan) => ({ faults: plan }));
  });
  router.get('/_faults', (_req, res) => void res.json({ faults: use.getFaults.execute({ state: stateOf(res) }) }));
  router.delete('/_faults', (_req, res) => {
    use.clearFaults.execute({ state: stateOf(res) });
    sendResult(res, Result.ok(undefined), 204);
  });
  router.post('/_reset', async (_req, res) => {
    await use.resetNamespaces.execute({ state: stateOf(res), named: isNamedNamespace(res) });
    res.status(204).end();
  });
}
