import { createHash, timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { Router, type RequestHandler } from 'express';
import { AppError, type Logger } from '@music/platform';
import type { IntegrationConfig } from './config';

/** Where the queue dashboard (Bull Board) is served. */
export const ADMIN_DASHBOARD_PATH = '/admin/queues';

export interface AdminCredentials {
  user: string;
  password: string;
}

/** The development/test login when none is configured (documented in README and .env.example). */
export const DEVELOPMENT_ADMIN_CREDENTIALS: AdminCredentials = { user: 'admin', password: 'admin' };

/**
 * The dashboard's login: ADMIN_USER / ADMIN_PASSWORD when both are set; without them, none in
 * production (the dashboard is not served: 404) and admin / admin elsewhere, with a warning.
 */
export function adminCredentials(config: Pick<IntegrationConfig, 'NODE_ENV' | 'ADMIN_USER' | 'ADMIN_PASSWORD'>, logger: Logger): AdminCredentials | null {
  if (config.ADMIN_USER !== undefined && config.ADMIN_PASSWORD !== undefined) return { user: config.ADMIN_USER, password: config.ADMIN_PASSWORD };
  if (config.ADMIN_USER !== undefined || config.ADMIN_PASSWORD !== undefined) {
    logger.warn('queue dashboard disabled: set both ADMIN_USER and ADMIN_PASSWORD');
    return null;
  }
  if (config.NODE_ENV === 'production') {
    logger.info('queue dashboard disabled: set ADMIN_USER and ADMIN_PASSWORD to serve it at /admin/queues');
    return null;
  }
  logger.warn('queue dashboard uses the development login admin / admin: set ADMIN_USER and ADMIN_PASSWORD');
  return DEVELOPMENT_ADMIN_CREDENTIALS;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

// Why HTTP Basic and not the JWT every API route takes: the dashboard is a page a person opens in a
// browser, and a browser sends no bearer token on navigation; it does ask for, remember and resend
// Basic credentials (the dashboard's own API calls included). The login is an operator setting,
// separate from the app's users: being an organization's owner must not show every tenant's jobs.
function basicAuth(credentials: AdminCredentials): RequestHandler {
  // Compared as fixed-length digests in constant time: no length or prefix leaks through timing.
  const expected = digest(`${credentials.user}:${credentials.password}`);
  return (req, res, next) => {
    const header = req.header('authorization') ?? '';
    const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header);
    const given = match?.[1] ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    if (match && timingSafeEqual(digest(given), expected)) return next();
    res.setHeader('www-authenticate', 'Basic realm="music-sync queues", charset="UTF-8"');
    next(new AppError('UNAUTHORIZED', 'The queue dashboard needs the admin login (HTTP Basic)'));
  };
}

// Bull Board's page asks for Google Fonts: the policy keeps the browser on this origin (operators'
// browsers tell no third party what they look at), which Bull Board's own assets are served from.
const DASHBOARD_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

const dashboardHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('content-security-policy', DASHBOARD_CSP);
  res.setHeader('cache-control', 'no-store');
  next();
};

/**
 * The queue dashboard (Bull Board) at /admin/queues behind HTTP Basic auth: every queue's jobs by
 * state, their data, errors and logs, and retry/promote actions.
 */
export function adminDashboardRouter(queues: Queue[], credentials: AdminCredentials): Router {
  const serverAdapter = new ExpressAdapter().setBasePath(ADMIN_DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { allowRetries: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'music-sync queues' } },
  });
  const router = Router();
  router.use(ADMIN_DASHBOARD_PATH, basicAuth(credentials), dashboardHeaders, serverAdapter.getRouter());
  return router;
}
