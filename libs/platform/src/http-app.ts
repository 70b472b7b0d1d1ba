import { randomUUID } from 'node:crypto';
import cors from 'cors';
import express, { type ErrorRequestHandler, type Express, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import mongoose from 'mongoose';
import type { Result } from '@sapphire/result';
import { AppError, statusForCode, toEnvelope } from './errors';
import type { Logger } from './logger';
import { currentContext, withContext } from './request-context';
import { httpMetricsMiddleware, metricsHandler, type Metrics } from './metrics';
import { apiDocsRouter, type OpenApiDocument } from './openapi';
import { healthRouter, type HealthCheck } from './health';
import { serviceIndexHandler, standardServiceLinks, type ServiceIndex, type ServiceLink } from './service-index';
import { listSetting, type BaseConfig } from './config';
import { jsonDepth, nulCharacterPath } from './validation';

declare module 'http' {
  interface IncomingMessage {
    /** The exact request body bytes, kept for webhook signature verification. */
    rawBody?: Buffer;
    requestId?: string;
  }
}

export interface HttpAppOptions {
  logger: Logger;
  bodyLimit?: string;
  maxJsonDepth?: number;
  healthChecks?: HealthCheck[];
  /** Origins allowed by CORS; empty (the default) sends no CORS headers at all. */
  corsOrigins?: string[];
  /** Mounted before the body parser: what must see the request body as it arrived (a reverse proxy streams it on untouched). */
  beforeBody?: (app: Express) => void;
  /** Mounted before the routes. */
  before?: (app: Express) => void;
  /** Served as `GET /` (HTML for browsers, JSON otherwise): what the service is, links to its docs and health. */
  index?: ServiceIndex;
  /** Times every request by route pattern and status, and serves `GET /metrics`. */
  metrics?: Metrics;
  /** Served as `GET /openapi.json` and rendered by Swagger UI at `/docs`. */
  apiDocs?: OpenApiDocument;
  routes: (app: Express) => void;
}

/** What an API service is, for `serviceAppOptions`. */
export interface ServiceDescription {
  service: string;
  description: string;
  /** Its OpenAPI document, with or without `/metrics`. */
  apiDocument: (options: { metrics: boolean }) => OpenApiDocument;
  /** The registry requests are timed in; resolved only when METRICS_ENABLED. */
  metrics: () => Metrics;
  /** Pages of its own its index links to, after the docs, health and metrics. */
  links?: ServiceLink[];
}

/**
 * The options of an API service's app that follow from the settings every service shares: the body
 * limit, the CORS origins, and METRICS_ENABLED, which decides at once whether requests are timed,
 * whether the document lists `/metrics` and whether the index links to it.
 */
export function serviceAppOptions(
  config: Pick<BaseConfig, 'HTTP_BODY_LIMIT' | 'CORS_ORIGINS' | 'METRICS_ENABLED'>,
  service: ServiceDescription,
): Pick<HttpAppOptions, 'bodyLimit' | 'corsOrigins' | 'metrics' | 'apiDocs' | 'index'> {
  const metrics = config.METRICS_ENABLED;
  return {
    bodyLimit: config.HTTP_BODY_LIMIT,
    corsOrigins: listSetting(config.CORS_ORIGINS),
    ...(metrics ? { metrics: service.metrics() } : {}),
    apiDocs: service.apiDocument({ metrics }),
    index: { service: service.service, description: service.description, links: [...standardServiceLinks({ metrics }), ...(service.links ?? [])] },
  };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The Express app every service starts from: security headers, request ids and logging, a JSON
 * body parser with size and depth limits, health endpoints, the routes, a JSON 404 and the one
 * error middleware that writes the error envelope.
 */
export function createHttpApp(options: HttpAppOptions): Express {
  const { logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(helmet());

  const requestContext: RequestHandler = (req, res, next) => {
    const incoming = req.header('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    req.requestId = requestId;
    res.setHeader('x-request-id', requestId);
    const started = process.hrtime.bigint();
    withContext({ requestId }, () => {
      // The request's own context object: what routes add to it later (the org id) is on the
      // request line too, which is written outside the request's async context.
      const context = currentContext();
      res.on('finish', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        // originalUrl: routers strip their mount path from req.path while they handle a request.
        const path = req.originalUrl.split('?', 1)[0];
        withContext(context, () => logger.http('request', { method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }));
      });
      next();
    });
  };
  app.use(requestContext);
  if (options.metrics) app.use(httpMetricsMiddleware(options.metrics, app));

  // CORS only for the configured origins (none by default: no CORS headers at all). A preflight
  // from one of them is answered 204 with the methods and headers the API takes.
  if ((options.corsOrigins ?? []).length > 0) {
    app.use(
      cors({
        origin: options.corsOrigins,
        methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
        allowedHeaders: ['authorization', 'content-type', 'x-organization-id', 'x-request-id'],
        optionsSuccessStatus: 204,
      }),
    );
  }

  options.beforeBody?.(app);
  app.use(
    express.json({
      limit: options.bodyLimit ?? '1mb',
      type: ['application/json', 'application/*+json'],
      verify: (req, _res, buf) => {
        req.rawBody = buf;
      },
    }),
  );
  const maxDepth = options.maxJsonDepth ?? 32;
  app.use(requireJsonBody);
  app.use((req, _res, next) => {
    if (req.body !== undefined && jsonDepth(req.body, maxDepth) > maxDepth) {
      return next(new AppError('VALIDATION_FAILED', `JSON nested deeper than ${maxDepth} levels`));
    }
    // U+0000 reaches no store of ours: FerretDB on PostgreSQL fails on it even in a lookup filter
    // (a 500 for GET /organization/%00), MongoDB in keys. No legitimate request carries it.
    if (/%00/.test(req.originalUrl)) {
      return next(new AppError('VALIDATION_FAILED', 'The URL contains a NUL character (%00)', [{ path: '(url)', message: 'must not contain %00' }]));
    }
    const nulPath = req.body !== undefined ? nulCharacterPath(req.body) : undefined;
    if (nulPath !== undefined) {
      return next(new AppError('VALIDATION_FAILED', 'Text must not contain the NUL character (U+0000)', [{ path: nulPath, message: 'must not contain U+0000' }]));
    }
    next();
  });

  options.before?.(app);
  if (options.metrics) app.get('/metrics', metricsHandler(options.metrics));
  if (options.apiDocs) app.use(apiDocsRouter(options.apiDocs));
  app.use(healthRouter(options.healthChecks ?? []));
  if (options.index) app.get('/', serviceIndexHandler(options.index));
  options.routes(app);

  app.use((req, _res, next) => next(new AppError('NOT_FOUND', `No route for ${req.method} ${req.path}`)));
  app.use(errorMiddleware(logger));
  return app;
}

interface BodyParserError {
  type?: string;
  status?: number;
}

/** Maps any error to the JSON envelope. Unknown errors are logged with an errorId and answered 500. */
export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (res.headersSent) return;
    if (isStoreUnavailable(error)) {
      // A passing outage, not a bug: the client should retry, and one warning says why.
      logger.warn('store unavailable', { method: req.method, path: req.path, err: (error as Error).message });
      res.setHeader('retry-after', String(STORE_RETRY_AFTER_SECONDS));
      return void res.status(503).json(toEnvelope(new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable; retry shortly')));
    }
    const appError = toAppError(error);
    if (appError) {
      // A client's mistake, not ours: one warning (the request line says the rest), no error log.
      if (error instanceof URIError) logger.warn('malformed URL', { method: req.method, path: req.originalUrl.split('?', 1)[0] });
      if (appError.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(appError.retryAfterSeconds));
      return void res.status(statusForCode(appError.code)).json(toEnvelope(appError));
    }
    const errorId = randomUUID();
    logger.error('unhandled error', { errorId, method: req.method, path: req.path, err: describe(error) });
    res.status(500).json(toEnvelope(new AppError('INTERNAL', 'Internal server error'), errorId));
  };
}

const STORE_RETRY_AFTER_SECONDS = 5;

/**
 * The store could not be reached (down, restarting, no server to select): the driver's network and
 * server-selection errors, and mongoose's. Without this a store outage answered 500 "Internal
 * server error" with an error-level log line per request, as if it were a bug.
 */
function isStoreUnavailable(error: unknown): boolean {
  const { mongo } = mongoose;
  return (
    error instanceof mongo.MongoNetworkError ||
    error instanceof mongo.MongoServerSelectionError ||
    error instanceof mongo.MongoNotConnectedError ||
    error instanceof mongo.MongoTopologyClosedError ||
    error instanceof mongoose.Error.MongooseServerSelectionError
  );
}

/**
 * A request with a body the JSON parser did not read (no `content-type`, or another type) would
 * reach the routes with no body at all, and their validation would say "expected object, received
 * undefined". Refuse it here, naming the header. Bodies of other types are nowhere accepted.
 */
const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (req.body !== undefined || !hasBody(req)) return next();
  const type = req.header('content-type');
  const message = type
    ? `Unsupported content-type "${type.split(';', 1)[0]}": send the body as JSON with the header content-type: application/json`
    : 'The request has a body but no content-type header: send it as JSON with the header content-type: application/json';
  next(new AppError('UNSUPPORTED_MEDIA_TYPE', message, [{ path: '(header) content-type', message: 'must be application/json' }]));
};

function hasBody(req: Parameters<RequestHandler>[0]): boolean {
  const length = req.header('content-length');
  if (length !== undefined) return Number(length) > 0;
  return req.header('transfer-encoding') !== undefined;
}

function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  // Express decodes path parameters with decodeURIComponent, which throws on a malformed escape.
  if (error instanceof URIError) {
    return new AppError('VALIDATION_FAILED', 'The URL contains a malformed percent-escape (such as %ZZ): encode "%" as %25', [{ path: '(url)', message: 'malformed percent-escape' }]);
  }
  const parserError = error as BodyParserError;
  switch (parserError?.type) {
    case 'entity.too.large':
      return new AppError('PAYLOAD_TOO_LARGE', 'Request body too large');
    case 'entity.parse.failed':
      return new AppError('VALIDATION_FAILED', 'Malformed JSON body');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported body encoding');
    default:
      return undefined;
  }
}

function describe(error: unknown): { message: string; stack?: string } {
  return error instanceof Error ? { message: error.message, stack: error.stack } : { message: String(error) };
}

/** Writes a use-case result: the mapped value with `status`, or the error envelope. */
export function sendResult<T>(res: Response, result: Result<T, AppError>, status = 200, map?: (value: T) => unknown): void {
  if (result.isErr()) {
    const error = result.unwrapErr();
    if (error.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(error.retryAfterSeconds));
    res.status(statusForCode(error.code)).json(toEnvelope(error));
    return;
  }
  const value = result.unwrap();
  if (status === 204) return void res.status(204).end();
  res.status(status).json(map ? map(value) : value);
}
