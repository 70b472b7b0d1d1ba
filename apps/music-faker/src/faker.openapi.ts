import { z } from 'zod';
import type { ZodOpenApiOperationObject, ZodOpenApiPathItemObject, ZodOpenApiPathsObject } from 'zod-openapi';
import { createApiDocument, errorResponses, type OpenApiDocument } from '@music/platform';
import { faultsSchema } from './faults.routes';
import { generateSchema } from './music.routes';
import { musicPageQuerySchema } from './pagination';
import { deliveryBodySchema } from './sync.routes';
import { webhookConfigSchema, webhookTargetSchema } from './webhook-config.routes';

const song = z
  .looseObject({
    id: z.string(),
    name: z.string(),
    artist: z.string(),
    album: z.string(),
    genre: z.string(),
    durationSec: z.number(),
    releasedAt: z.string().meta({ format: 'date' }),
    updatedAt: z.string().meta({ format: 'date-time' }),
  })
  .meta({ id: 'Song', description: 'A generated song; items pushed through /sync/create keep whatever fields they were sent with' });
const item = z.looseObject({ id: z.string() }).meta({ id: 'FakerItem' });
const idParams = z.object({ id: z.string() });
const json = (schema: z.ZodType) => ({ 'application/json': { schema } });
const webhookConfig = z.object({ create: z.array(z.string()), remove: z.array(z.string()) });
const deliveryResult = z.looseObject({ received: z.number().int(), duplicate: z.boolean() });

const configOperations = {
  get: { tags: ['config'], summary: 'Which URLs the faker calls when songs are generated or deleted', responses: { '200': { description: 'The webhook config', content: json(webhookConfig) } } },
  put: {
    tags: ['config'],
    summary: 'Set the URLs the faker calls when songs are generated (`create`) or deleted (`remove`)',
    description: 'Replaces every target of the namespace. An entry is a URL, or `{ url, secret }`: with a secret (`whsec_...`), the faker signs its calls (Standard Webhooks).',
    requestBody: { content: { 'application/json': { schema: webhookConfigSchema, example: { create: [], remove: ['http://localhost:3003/sync?orgId=ORG_ID'] } } } },
    responses: { '200': { description: 'The new config', content: json(webhookConfig) }, ...errorResponses(400) },
  },
};

const deliveryReceiver = (summary: string) => ({
  tags: ['receiver'],
  summary,
  description: 'Where our output webhooks deliver. Signed deliveries are required when FAKER_WEBHOOK_SECRET is set; a repeated `webhook-id` is applied once.',
  requestBody: { content: { 'application/json': { schema: deliveryBodySchema } } },
  responses: { '200': { description: 'Applied (or a duplicate)', content: json(deliveryResult) }, ...errorResponses(400, 401) },
});

const targetApi = z.object({ id: z.string(), event: z.enum(['create', 'remove']), url: z.string(), signed: z.boolean() }).meta({ id: 'WebhookTarget' });
const targetIdParams = z.object({ targetId: z.string() });
const namespaceParams = z.object({ namespace: z.string().meta({ description: 'A namespace of its own (created on first use): its songs, webhook targets, received deliveries and faults' }) });

type Operation = ZodOpenApiOperationObject;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** The same operations under /ns/{namespace}, each with the namespace as one more path parameter. */
function namespaced(paths: ZodOpenApiPathsObject): ZodOpenApiPathsObject {
  const out: ZodOpenApiPathsObject = {};
  for (const [path, item] of Object.entries(paths)) {
    const copy: ZodOpenApiPathItemObject = {};
    for (const method of METHODS) {
      const op = item[method] as Operation | undefined;
      if (!op) continue;
      const own = (op.requestParams?.path as z.ZodObject | undefined)?.shape ?? {};
      copy[method] = { ...op, tags: ['namespaces'], requestParams: { ...op.requestParams, path: z.object({ ...namespaceParams.shape, ...own }) } };
    }
    out[`/ns/{namespace}${path}`] = copy;
  }
  return out;
}

/** music-faker's OpenAPI 3.1 document (the fake third party), from the zod schemas its routes validate with. */
export function fakerApiDocument(options: { metrics: boolean; controlEndpoints?: boolean }): OpenApiDocument {
  const control = options.controlEndpoints ?? true;
  const paths: ZodOpenApiPathsObject = {
    '/music': {
      get: {
        tags: ['music'],
        summary: 'Every song; or a page (`page`/`offset` + `limit`), or a cursor walk (`cursor` + `limit`); `updatedSince` keeps the songs written at or after it',
        description:
          'Answers carry an `ETag` and, once the list has not changed for a second, a `Last-Modified`; a request with a matching `If-None-Match` (or, without one, an `If-Modified-Since` not older than the last change) is answered 304.',
        requestParams: { query: musicPageQuerySchema },
        responses: {
          '200': { description: 'An array, or `{ items, nextCursor }` in cursor mode', content: json(z.union([z.array(item), z.object({ items: z.array(item), nextCursor: z.string().nullable() })])) },
          '304': { description: 'Not modified: the same answer as the one the validators came from' },
          ...errorResponses(400),
        },
      },
    },
    '/music/{id}': {
      get: { tags: ['music'], summary: 'One song', requestParams: { path: idParams }, responses: { '200': { description: 'The song', content: json(item) }, ...errorResponses(404) } },
      delete: {
        tags: ['music'],
        summary: 'Delete a song (calls the `remove` targets in the background)',
        requestParams: { path: idParams },
        responses: { '200': { description: 'The deleted song', content: json(item) }, ...errorResponses(404) },
      },
    },
    '/sync/create': { post: deliveryReceiver('Receive upserts'), put: deliveryReceiver('Receive upserts'), delete: deliveryReceiver('Receive deletes (one URL for every event)') },
    '/sync/delete': { delete: deliveryReceiver('Receive deletes') },
    '/sync/{id}': {
      delete: {
        tags: ['receiver'],
        summary: 'Receive a delete of one item by id',
        requestParams: { path: idParams },
        responses: { '200': { description: 'Applied (or a duplicate)', content: json(deliveryResult) }, ...errorResponses(400, 401) },
      },
    },
  };
  if (control) {
    Object.assign(paths, {
      '/music/generate': {
        post: {
          tags: ['music'],
          summary: 'Generate fake songs (calls the `create` targets in the background)',
          requestBody: { content: { 'application/json': { schema: generateSchema, example: { count: 5 } } } },
          responses: { '201': { description: 'The new songs', content: json(z.array(song)) }, ...errorResponses(400) },
        },
      },
      '/music/config': configOperations,
      '/config': configOperations,
      '/config/targets': {
        get: { tags: ['config'], summary: 'Every webhook target of the namespace (never their secrets)', responses: { '200': { description: 'The targets', content: json(z.object({ targets: z.array(targetApi) })) } } },
        post: {
          tags: ['config'],
          summary: 'Add one target beside the others (several receivers can listen to one namespace)',
          requestBody: { content: { 'application/json': { schema: webhookTargetSchema, example: { event: 'remove', url: 'http://localhost:3003/sync?orgId=ORG_ID', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' } } } },
          responses: { '201': { description: 'The new target', content: json(targetApi) }, ...errorResponses(400, 409) },
        },
      },
      '/config/targets/{targetId}': {
        delete: { tags: ['config'], summary: 'Remove one target', requestParams: { path: targetIdParams }, responses: { '204': { description: 'Removed' }, ...errorResponses(404) } },
      },
      '/sync/received': {
        get: { tags: ['receiver'], summary: 'Every delivery received, with counts by outcome', responses: { '200': { description: 'The log', content: json(z.looseObject({ deliveries: z.array(z.unknown()) })) } } },
      },
      '/_faults': {
        put: {
          tags: ['test-only'],
          summary: 'Make the next calls slow or failing',
          requestBody: { content: { 'application/json': { schema: faultsSchema, example: { failNext: 2, status: 503, target: 'sync' } } } },
          responses: { '200': { description: 'The fault plan', content: json(z.object({ faults: z.unknown() })) }, ...errorResponses(400) },
        },
        get: { tags: ['test-only'], summary: 'The current fault plan', responses: { '200': { description: 'The plan', content: json(z.object({ faults: z.unknown() })) } } },
        delete: { tags: ['test-only'], summary: 'Clear the fault plan', responses: { '204': { description: 'Cleared' } } },
      },
      '/_reset': {
        post: { tags: ['test-only'], summary: 'Forget every song, target, delivery and fault (unprefixed: of every namespace)', responses: { '204': { description: 'Reset' } } },
      },
    } satisfies ZodOpenApiPathsObject);
  }
  return createApiDocument({
    title: 'music-faker',
    description:
      'A fake third-party music service (in memory) for demos and tests. Every route also exists under `/ns/{namespace}`: a namespace of its own, so two organizations’ songs and notifications never mix. ' +
      (control
        ? 'The control routes (generate, config, targets, `/sync/received`, `/_faults`, `/_reset`) exist because it is a test double; FAKER_CONTROL_ENDPOINTS=false (the default in production) turns them off.'
        : 'Its control routes are off (FAKER_CONTROL_ENDPOINTS=false).'),
    metrics: options.metrics,
    paths: { ...paths, ...namespaced(paths) },
  });
}
