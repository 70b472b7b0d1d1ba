import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import { parseInput, sendResult } from '@music/platform';
import { Result } from '@sapphire/result';
import type { FakerNamespaces } from './faker-namespaces';
import type { FaultPlan } from './faker-state';
import { isNamedNamespace, stateOf } from './namespace-state';

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

/** Turns the PUT /_faults body into a plan: a delay alone (no status) only slows calls down. */
export function toFaultPlan(input: z.infer<typeof faultsSchema>): FaultPlan {
  const delayOnly = input.status === undefined && input.delayMs !== undefined;
  return {
    target: input.target,
    remaining: input.failNext ?? null,
    status: delayOnly ? null : (input.status ?? 500),
    delayMs: input.delayMs ?? 0,
    retryAfterSeconds: input.retryAfterSeconds ?? null,
  };
}

/**
 * PUT/GET/DELETE /_faults (the namespace's faults) and POST /_reset: unprefixed, it empties the
 * default namespace and forgets every named one; under /ns/<name>, it empties that namespace.
 */
export function faultRoutes(router: Router, namespaces: FakerNamespaces): void {
  router.put('/_faults', (req, res) => {
    const state = stateOf(res);
    const result = parseInput(faultsSchema, req.body, 'Faults').map(toFaultPlan);
    result.inspect((plan) => state.setFaults(plan));
    sendResult(res, result, 200, (plan) => ({ faults: plan }));
  });
  router.get('/_faults', (_req, res) => void res.json({ faults: stateOf(res).faults }));
  router.delete('/_faults', (_req, res) => {
    stateOf(res).clearFaults();
    sendResult(res, Result.ok(undefined), 204);
  });
  router.post('/_reset', async (_req, res) => {
    const state = stateOf(res);
    // Let calls already in flight finish first so they do not land in the fresh logs.
    if (!isNamedNamespace(res)) {
      await namespaces.whenIdle();
      namespaces.reset();
    } else {
      await state.whenIdle();
      state.reset();
    }
    res.status(204).end();
  });
}

/**
 * Applies an injected fault of the request's namespace to a matching request: waits `delayMs`,
 * then either answers with the fault's status (calling `onFault` first) or lets the request through.
 */
export function faultGate(kind: 'sync' | 'music', onFault?: (req: Request, res: Response, status: number) => void): RequestHandler {
  return async (req: Request, res: Response, next) => {
    const plan = stateOf(res).takeFault(kind);
    if (!plan) return next();
    if (plan.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, plan.delayMs));
    if (plan.status === null) return next();
    onFault?.(req, res, plan.status);
    if (plan.retryAfterSeconds !== null) res.setHeader('retry-after', String(plan.retryAfterSeconds));
    res.status(plan.status).json({ error: { code: 'INJECTED_FAULT', message: `Injected fault (test-only): ${plan.status}` } });
  };
}
