import type { Request, RequestHandler, Response } from 'express';
import { stateOf } from './namespace-state';

/**
 * Applies an injected fault of the request's namespace (test-only, `PUT /_faults`) to a matching
 * request: waits `delayMs`, then either answers with the fault's status (calling `onFault` first)
 * or lets the request through.
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
