import type { Express, RequestHandler } from 'express';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { routePatternMatcher } from './route-table';

/** One app's Prometheus metrics: its own registry (never prom-client's global one) and the HTTP histogram. */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
}

export interface MetricsOptions {
  /** Stamped on every series as the `service` label. */
  service: string;
  /** Also collect Node process metrics (CPU, memory, event loop lag, GC). main.ts turns it on; tests leave it off. */
  processMetrics?: boolean;
}

/** Label of requests that matched no route (404s for unknown paths): one series, whatever the URL. */
export const UNMATCHED_ROUTE = '(unmatched)';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** A registry of its own for one app, with the HTTP request histogram registered on it. */
export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: options.service });
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status code, and how long they took',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return { registry, httpRequestDuration };
}

/**
 * Times every request into `http_request_duration_seconds`, labelled by the route *pattern*
 * (`/organization/:id`, from the app's own route table) and the status code. Requests a guard
 * refused before reaching their route (401s) still get their route's pattern; paths matching no
 * route share one `(unmatched)` series, so no URL can add a series.
 */
export function httpMetricsMiddleware(metrics: Metrics, app: Express): RequestHandler {
  const patternOf = routePatternMatcher(app);
  return (req, res, next) => {
    const end = metrics.httpRequestDuration.startTimer();
    res.on('finish', () => {
      // originalUrl: routers strip their mount path from req.url while they handle a request.
      const path = req.originalUrl.split('?', 1)[0] ?? '/';
      end({
        method: KNOWN_METHODS.has(req.method) ? req.method : 'OTHER',
        route: patternOf(req.method, path) ?? UNMATCHED_ROUTE,
        status: String(res.statusCode),
      });
    });
    next();
  };
}

/** `GET /metrics`: the registry in Prometheus' text format. */
export function metricsHandler(metrics: Metrics): RequestHandler {
  return async (_req, res) => {
    const body = await metrics.registry.metrics();
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(body);
  };
}
