import { Router } from 'express';
import { withinDeadline } from './deadline';

/** A dependency readiness depends on; `check` resolves when it is reachable and rejects otherwise. */
export interface HealthCheck {
  name: string;
  check: () => Promise<unknown>;
}

const CHECK_TIMEOUT_MS = 1500;


/** Runs every check in parallel, each bounded by a timeout. */
export async function runHealthChecks(checks: HealthCheck[]): Promise<{ ok: boolean; checks: Record<string, string> }> {
  const results = await Promise.all(
    checks.map(async (c) => {
      try {
        await withinDeadline(c.check(), CHECK_TIMEOUT_MS, c.name);
        return [c.name, 'up'] as const;
      } catch (e) {
        return [c.name, `down: ${(e as Error).message}`] as const;
      }
    }),
  );
  return { ok: results.every(([, s]) => s === 'up'), checks: Object.fromEntries(results) };
}

/** `/health/live` (the process answers) and `/health/ready` (its stores answer: 200, else 503). */
export function healthRouter(checks: HealthCheck[]): Router {
  const router = Router();
  router.get('/health/live', (_req, res) => void res.json({ status: 'ok' }));
  router.get('/health/ready', async (_req, res) => {
    const report = await runHealthChecks(checks);
    res.status(report.ok ? 200 : 503).json({ status: report.ok ? 'ready' : 'unavailable', checks: report.checks });
  });
  return router;
}
