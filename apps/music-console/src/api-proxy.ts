import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Router, type Request } from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { AppError, toEnvelope, type Logger } from '@music/platform';
import { isForwarded, type Upstream } from './upstreams';

export interface ApiProxyOptions {
  upstreams: Upstream[];
  logger: Logger;
  /** How long an upstream may take to answer. */
  timeoutMs: number;
}

function sendEnvelope(res: ServerResponse | Socket, status: number, error: AppError): void {
  if (!('setHeader' in res) || res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  if (status === 503) res.setHeader('retry-after', '5');
  res.end(JSON.stringify(toEnvelope(error)));
}

/**
 * `/api/<name>/<path>` -> `<upstream url>/<path>`, for the four APIs, so the console's pages call
 * them on the console's own origin (no CORS). Bodies stream through untouched (mount it before any
 * body parser); the request keeps its `x-request-id`, so one id follows it through both services.
 * Only the user-facing paths of each API are forwarded, anything else answers 404.
 */
export function apiProxyRouter(options: ApiProxyOptions): Router {
  const router = Router();
  for (const upstream of options.upstreams) {
    const proxy = createProxyMiddleware<Request, ServerResponse>({
      target: upstream.url,
      changeOrigin: true,
      xfwd: true,
      proxyTimeout: options.timeoutMs,
      timeout: options.timeoutMs,
      on: {
        proxyReq: (proxyReq, req) => {
          // The console has no cookies to give; nothing else of the browser's is forwarded either.
          proxyReq.removeHeader('cookie');
          if (req.requestId) proxyReq.setHeader('x-request-id', req.requestId);
        },
        error: (error, _req: IncomingMessage, res) => {
          options.logger.warn('upstream unavailable', { upstream: upstream.service, err: error.message });
          sendEnvelope(res, 503, new AppError('SERVICE_UNAVAILABLE', `${upstream.service} is not answering; retry shortly`));
        },
      },
    });
    router.use(`/api/${upstream.name}`, (req, res, next) => {
      if (!isForwarded(upstream, req.path)) return next(new AppError('NOT_FOUND', `No route for ${req.method} ${req.originalUrl.split('?', 1)[0]}`));
      void proxy(req, res, next);
    });
  }
  return router;
}
