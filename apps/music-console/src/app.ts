import path from 'node:path';
import express, { type Express, type RequestHandler } from 'express';
import { exampleOrganization } from '@music/domain';
import { createHttpApp, createMetrics, type HealthCheck, type Logger, type Metrics } from '@music/platform';
import { apiProxyRouter } from './api-proxy';
import type { ConsoleConfig } from './config';
import { upstreamHealthChecks } from './upstream-health';
import { upstreamsOf } from './upstreams';

export interface ConsoleDeps {
  config: ConsoleConfig;
  logger: Logger;
  /** Readiness checks; by default, each upstream API answers its liveness check. */
  healthChecks?: HealthCheck[];
  /** The process's registry (main.ts); a fresh one when omitted. Unused when METRICS_ENABLED is false. */
  metrics?: Metrics;
}

/** The pages, scripts and styles, served as they are (no build step). */
export const PUBLIC_DIR = path.resolve(__dirname, '..', 'public');

// The console's own files only: no inline script or style, no other origin, not framed.
const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const consoleHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('content-security-policy', CONSOLE_CSP);
  res.setHeader('referrer-policy', 'no-referrer');
  next();
};

/**
 * music-console: the web console for the people who configure syncs. It serves its pages and, on
 * the same origin, forwards `/api/<config|auth|inventory|integration>/...` to the four APIs, so the
 * browser never calls another origin and no API needs CORS. It holds no state and no secret: the
 * pages sign in through music-auth and send the token the API gave them.
 */
export function createConsoleApp(deps: ConsoleDeps): Express {
  const { config, logger } = deps;
  const upstreams = upstreamsOf(config);
  return createHttpApp({
    logger,
    bodyLimit: config.HTTP_BODY_LIMIT,
    healthChecks: deps.healthChecks ?? upstreamHealthChecks(upstreams),
    ...(config.METRICS_ENABLED ? { metrics: deps.metrics ?? createMetrics({ service: 'music-console' }) } : {}),
    beforeBody: (app) => app.use(apiProxyRouter({ upstreams, logger, timeoutMs: config.HTTP_REQUEST_TIMEOUT_MS })),
    before: (app) => app.use(consoleHeaders),
    routes: (app) => {
      // The "new organization" form starts from the canonical example (the local stack's addresses).
      app.get('/example-organization.json', (_req, res) => void res.json(exampleOrganization()));
      // Revalidated on every load (ETag): a new version of the console is seen at once.
      app.use(express.static(PUBLIC_DIR, { index: 'index.html', etag: true, lastModified: false, setHeaders: (res) => res.setHeader('cache-control', 'no-cache') }));
    },
  });
}
