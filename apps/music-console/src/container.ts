import path from 'node:path';
import express, { type Express, type RequestHandler } from 'express';
import type { DependencyContainer } from 'tsyringe';
import { exampleOrganization } from '@music/domain';
import { createContainer, createHttpApp, createMetrics, provideFactory, provideValue, resolve, token, type HealthCheck, type Logger, type Metrics } from '@music/platform';
import { apiProxyRouter } from './api-proxy';
import type { ConsoleConfig } from './config';
import { upstreamHealthChecks } from './upstream-health';
import { upstreamsOf, type Upstream } from './upstreams';

/** What the process (main.ts) or a test hands in: settings and the logger. */
export interface ConsoleDeps {
  config: ConsoleConfig;
  logger: Logger;
  /** Readiness checks; by default, each upstream API answers its liveness check. */
  healthChecks?: HealthCheck[];
  /** The process's registry (main.ts); a fresh one when omitted. Unused when METRICS_ENABLED is false. */
  metrics?: Metrics;
}

/** Everything music-console is built from; a test overrides one with `provideValue` before resolving `CONSOLE.app`. */
export const CONSOLE = {
  config: token<ConsoleConfig>('ConsoleConfig'),
  logger: token<Logger>('Logger'),
  /** The four APIs it forwards to, from the settings. */
  upstreams: token<Upstream[]>('Upstreams'),
  healthChecks: token<HealthCheck[]>('HealthChecks'),
  /** Resolved only when METRICS_ENABLED. */
  metrics: token<Metrics>('Metrics'),
  app: token<Express>('ConsoleApp'),
};

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
 * music-console's composition root. The console serves its pages and, on the same origin, forwards
 * `/api/<config|auth|inventory|integration>/...` to the four APIs, so the browser never calls
 * another origin and no API needs CORS. It holds no state and no secret: the pages sign in through
 * music-auth and send the token the API gave them.
 */
export function consoleContainer(deps: ConsoleDeps): DependencyContainer {
  const c = createContainer();
  provideValue(c, CONSOLE.config, deps.config);
  provideValue(c, CONSOLE.logger, deps.logger);
  provideFactory(c, CONSOLE.upstreams, (c) => upstreamsOf(resolve(c, CONSOLE.config)));
  provideFactory(c, CONSOLE.healthChecks, (c) => deps.healthChecks ?? upstreamHealthChecks(resolve(c, CONSOLE.upstreams)));
  provideFactory(c, CONSOLE.metrics, () => deps.metrics ?? createMetrics({ service: 'music-console' }));
  provideFactory(c, CONSOLE.app, (c) => {
    const config = resolve(c, CONSOLE.config);
    const logger = resolve(c, CONSOLE.logger);
    const upstreams = resolve(c, CONSOLE.upstreams);
    return createHttpApp({
      logger,
      bodyLimit: config.HTTP_BODY_LIMIT,
      healthChecks: resolve(c, CONSOLE.healthChecks),
      ...(config.METRICS_ENABLED ? { metrics: resolve(c, CONSOLE.metrics) } : {}),
      beforeBody: (app) => app.use(apiProxyRouter({ upstreams, logger, timeoutMs: config.HTTP_REQUEST_TIMEOUT_MS })),
      before: (app) => app.use(consoleHeaders),
      routes: (app) => {
        // The "new organization" form starts from the canonical example (the local stack's addresses).
        app.get('/example-organization.json', (_req, res) => void res.json(exampleOrganization()));
        // Revalidated on every load (ETag): a new version of the console is seen at once.
        app.use(express.static(PUBLIC_DIR, { index: 'index.html', etag: true, lastModified: false, setHeaders: (res) => res.setHeader('cache-control', 'no-cache') }));
      },
    });
  });
  return c;
}
