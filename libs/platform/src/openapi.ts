import { Router, type Express, type RequestHandler } from 'express';
import swaggerUi from 'swagger-ui-express';
import { z } from 'zod';
import { createDocument, type ZodOpenApiOverrideContext, type ZodOpenApiOverrideMetaContext, type ZodOpenApiPathsObject, type ZodOpenApiResponsesObject, type ZodOpenApiSchemaObject } from 'zod-openapi';
import type { ErrorCode } from './errors';
import { listRoutes, toOpenApiPath } from './route-table';

/** An OpenAPI 3.1 document (as zod-openapi builds it). */
export type OpenApiDocument = ReturnType<typeof createDocument>;

/** What a schema's `.meta({ override })` function receives: the JSON schema generated for it, to adjust in place. */
export type SchemaOverrideContext = ZodOpenApiOverrideMetaContext;

const ERROR_CODES = [
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'SYNC_PAUSED',
  'RATE_LIMITED',
  'QUOTA_EXCEEDED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'SERVICE_UNAVAILABLE',
  'INTERNAL',
] as const satisfies readonly ErrorCode[];
// Fails to compile when an ErrorCode is added without being listed above.
const everyCodeListed: Exclude<ErrorCode, (typeof ERROR_CODES)[number]> extends never ? true : never = true;
void everyCodeListed;

/** The error envelope every app answers with (`toEnvelope`), as a schema for the documents. */
export const errorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional().meta({ description: 'One entry per offending field' }),
      limit: z
        .object({ name: z.string(), value: z.number() })
        .optional()
        .meta({ description: 'On 429s: the limit that was reached, as the setting that holds it and its value' }),
      errorId: z.string().optional().meta({ description: 'Only on 500s; the same id is on the server log line' }),
    }),
  })
  .meta({ id: 'ErrorEnvelope', description: 'Every error: a stable code, a message, and for validation errors the offending field paths' });

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Validation failed: `details` names each offending field',
  401: 'Missing, malformed or expired credentials',
  403: 'Forbidden',
  404: 'Not found (also for ids that belong to another user: tenants cannot probe each other)',
  409: 'Conflict with the current state',
  413: 'Body too large',
  415: 'Unsupported body encoding',
  429: 'Rate limited or a quota reached: `limit` names it; wait `Retry-After` seconds when given',
  500: 'Unexpected server error; `errorId` is on the server log line',
  503: 'A store or the queue is unavailable; retry later',
};

/** Error responses for an operation, each with the envelope schema; 500 is added to every list. */
export function errorResponses(...statuses: number[]): ZodOpenApiResponsesObject {
  const out: ZodOpenApiResponsesObject = {};
  for (const status of [...new Set([...statuses, 500])].sort()) {
    out[`${status}` as `4${string}`] = {
      description: ERROR_DESCRIPTIONS[status] ?? 'Error',
      content: { 'application/json': { schema: errorEnvelopeSchema } },
    };
  }
  return out;
}

/** Security requirement of the routes behind the JWT guard (`Authorization: Bearer <token>` from music-auth). */
export const BEARER_AUTH = [{ bearerAuth: [] }];

/** Paths every app built by createHttpApp serves besides its own routes. */
function platformPaths(options: { metrics: boolean }): ZodOpenApiPathsObject {
  const readiness = z.object({ status: z.enum(['ready', 'unavailable']), checks: z.record(z.string(), z.string()) });
  const index = z.object({ service: z.string(), description: z.string(), links: z.array(z.object({ href: z.string(), label: z.string() })) });
  const paths: ZodOpenApiPathsObject = {
    '/': {
      get: {
        tags: ['operations'],
        summary: 'What this service is, with links to its docs, health and metrics (HTML for a browser, JSON otherwise)',
        responses: { '200': { description: 'The service index', content: { 'application/json': { schema: index }, 'text/html': { schema: z.string() } } } },
      },
    },
    '/health/live': {
      get: {
        tags: ['operations'],
        summary: 'Liveness: the process answers',
        responses: { '200': { description: 'Alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
      },
    },
    '/health/ready': {
      get: {
        tags: ['operations'],
        summary: 'Readiness: every store this app needs answers',
        responses: {
          '200': { description: 'Ready', content: { 'application/json': { schema: readiness } } },
          '503': { description: 'A store is down; `checks` names it', content: { 'application/json': { schema: readiness } } },
        },
      },
    },
    '/openapi.json': {
      get: {
        tags: ['operations'],
        summary: 'This document (Swagger UI at /docs)',
        responses: { '200': { description: 'The OpenAPI 3.1 document', content: { 'application/json': {} } } },
      },
    },
  };
  if (options.metrics) {
    paths['/metrics'] = {
      get: {
        tags: ['operations'],
        summary: 'Prometheus metrics (text exposition format)',
        description: 'Not authenticated: keep it off the public ingress (or set METRICS_ENABLED=false).',
        responses: { '200': { description: 'Metrics', content: { 'text/plain': { schema: z.string() } } } },
      },
    };
  }
  return paths;
}

export interface ApiDocumentOptions {
  title: string;
  description: string;
  /** The app's own operations, in zod-openapi's form: zod schemas where the document needs schemas. */
  paths: ZodOpenApiPathsObject;
  /** Schemas to name in `components` (recursive ones read better with a name). */
  schemas?: Record<string, ZodOpenApiSchemaObject>;
  /** Whether the app serves /metrics. */
  metrics?: boolean;
}

function documentDatesAsText({ jsonSchema, zodSchema, io }: ZodOpenApiOverrideContext): void {
  if (io === 'output' && zodSchema._zod.def.type === 'date') {
    jsonSchema.type = 'string';
    jsonSchema.format = 'date-time';
  }
}

/**
 * Builds an app's OpenAPI 3.1 document from the zod schemas its routes validate with (zod-openapi,
 * on zod 4's JSON Schema conversion): request bodies and parameters are documented as the
 * schemas' input side, so the document accepts exactly what the routes accept.
 */
export function createApiDocument(options: ApiDocumentOptions): OpenApiDocument {
  return createDocument(
    {
      openapi: '3.1.0',
      info: { title: options.title, version: '1.0.0', description: options.description },
      paths: { ...options.paths, ...platformPaths({ metrics: options.metrics ?? true }) },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The `token` from `POST /auth/sign-in` on music-auth' },
        },
        ...(options.schemas ? { schemas: options.schemas } : {}),
      },
    },
    // Responses are sent as JSON, where a Date is its ISO text: a domain schema's z.date() is
    // documented as such, so a response can be described by the domain schema itself.
    { override: documentDatesAsText },
  );
}

// Swagger UI's own assets only: no CDN, no online validator, nothing but this origin.
const DOCS_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

const docsCsp: RequestHandler = (_req, res, next) => {
  res.setHeader('content-security-policy', DOCS_CSP);
  next();
};

/** `GET /openapi.json` (the document) and `/docs` (Swagger UI rendering it, served from local assets). */
export function apiDocsRouter(document: OpenApiDocument): Router {
  const router = Router();
  router.get('/openapi.json', (_req, res) => void res.json(document));
  // serveFiles: per-document assets (swagger-ui-express's plain `serve` shares one global document
  // between every app of the process).
  const options = { customSiteTitle: document.info.title, swaggerOptions: { validatorUrl: null, tryItOutEnabled: false } };
  router.use('/docs', docsCsp, swaggerUi.serveFiles(document, options), swaggerUi.setup(document, options));
  return router;
}

/**
 * Routes the app serves that the document does not describe, and documented operations the app
 * does not serve, as `METHOD /path` in OpenAPI syntax. Both empty: the document is complete.
 */
export function compareRoutesWithDocument(app: Express, document: OpenApiDocument): { undocumented: string[]; unserved: string[] } {
  const served = new Set(listRoutes(app).map((r) => `${r.method} ${toOpenApiPath(r.path)}`));
  const documented = new Set<string>();
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      if (item[method]) documented.add(`${method.toUpperCase()} ${path}`);
    }
  }
  return {
    undocumented: [...served].filter((r) => !documented.has(r)).sort(),
    unserved: [...documented].filter((r) => !served.has(r)).sort(),
  };
}
