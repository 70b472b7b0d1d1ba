import { z } from 'zod';
import { BEARER_AUTH, createApiDocument, errorResponses, type OpenApiDocument } from '@music/platform';
import { inboundWebhookQuerySchema } from './inbound-webhook.routes';
import { deliveryListQuerySchema, syncRunListQuerySchema } from './sync-history.routes';

const dateTime = z.string().meta({ format: 'date-time' });
const counts = z.object({
  fetched: z.number().int(),
  created: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  deleted: z.number().int(),
  invalid: z.number().int().meta({ description: 'Records that failed mapping (a sample is in `errors`)' }),
  conflicts: z.number().int().meta({ description: 'Inbound changes not applied: a local change not yet delivered wins' }),
});
const syncRun = z
  .object({
    id: z.string(),
    organizationId: z.string(),
    pollingId: z.string(),
    endpoint: z.string(),
    trigger: z.enum(['schedule', 'manual']),
    status: z.enum(['queued', 'running', 'succeeded', 'partial', 'failed', 'attention', 'skipped']),
    counts: counts.meta({ description: 'Updated while the run goes (about every second), final once it has finished' }),
    pages: z.number().int(),
    errors: z
      .array(z.object({ index: z.number().int(), externalId: z.string().optional(), path: z.string(), message: z.string() }))
      .meta({ description: 'Up to 20 records that failed mapping: which record, which field, why' }),
    message: z.string().nullable().meta({ description: 'Why a run is partial, failed, attention or skipped' }),
    queuedAt: dateTime,
    startedAt: dateTime.nullable(),
    finishedAt: dateTime.nullable(),
  })
  .meta({ id: 'SyncRun' });
const delivery = z
  .object({
    id: z.string().meta({ description: 'Also the `webhook-id` header the third party received' }),
    organizationId: z.string(),
    itemId: z.string(),
    externalId: z.string(),
    eventId: z.string(),
    webhookId: z.string(),
    url: z.string(),
    method: z.enum(['POST', 'PUT', 'DELETE']),
    op: z.enum(['upsert', 'delete']),
    version: z.number().int(),
    body: z.string().meta({ description: 'The exact JSON body sent' }),
    status: z.enum(['pending', 'succeeded', 'failed', 'superseded']),
    attempts: z.number().int(),
    lastAttempts: z.array(z.object({ at: dateTime, statusCode: z.number().int().nullable(), error: z.string().nullable(), ms: z.number() })),
    lastError: z.string().nullable(),
    createdAt: dateTime,
    updatedAt: dateTime,
    deliveredAt: dateTime.nullable(),
  })
  .meta({ id: 'Delivery' });
const page = (item: z.ZodType) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next (older) page; null on the last' }) });
const json = (schema: z.ZodType) => ({ 'application/json': { schema } });
const orgParams = z.object({ id: z.string().meta({ description: 'Organization id' }) });

const inbound = (method: 'POST' | 'PUT' | 'DELETE') => ({
  tags: ['inbound'],
  summary: method === 'DELETE' ? 'The third party deleted records: remove them' : 'The third party created or changed records: upsert them',
  description:
    'Needs an input webhook with this method on the organization (else 404, as for an unknown organization); when it has a secret, a Standard Webhooks signature over the raw body (`webhook-id`, `webhook-timestamp`, `webhook-signature`), else 401. The call is queued and applied by a worker; a repeated `webhook-id` is queued once.',
  requestParams: { query: inboundWebhookQuerySchema },
  requestBody: {
    description: 'One record or an array of records, in the third party’s shape (mapped with the organization’s mappings)',
    content: { 'application/json': { schema: z.union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))]), example: { id: 'a1b2', name: 'Song', artist: 'Artist', album: 'Album' } } },
  },
  responses: {
    '202': { description: 'Accepted and queued', content: json(z.object({ accepted: z.number().int(), messageId: z.string(), duplicate: z.boolean() })) },
    ...errorResponses(400, 401, 404, 413, 503),
  },
});

/** music-integration's OpenAPI 3.1 document, built from the zod schemas its routes validate with. */
export function integrationApiDocument(options: { metrics: boolean }): OpenApiDocument {
  return createApiDocument({
    title: 'music-integration',
    description:
      'Inbound webhooks from the third party, and the sync history of an organization: poll runs and outbound deliveries (newest first, filtered by status and time, paged with `cursor`). The queue dashboard (Bull Board, HTTP Basic login) is at /admin/queues.',
    metrics: options.metrics,
    paths: {
      '/sync': { post: inbound('POST'), put: inbound('PUT'), delete: inbound('DELETE') },
      '/organization/{id}/sync-runs': {
        get: {
          tags: ['sync history'],
          summary: 'Poll runs of an organization, newest first',
          security: BEARER_AUTH,
          requestParams: { path: orgParams, query: syncRunListQuerySchema },
          responses: { '200': { description: 'A page of runs', content: json(page(syncRun)) }, ...errorResponses(400, 401, 404) },
        },
      },
      '/organization/{id}/sync-runs/{runId}': {
        get: {
          tags: ['sync history'],
          summary: 'One run: poll it to watch a manual sync (`POST /organization/{id}/sync` on music-config) progress',
          security: BEARER_AUTH,
          requestParams: { path: orgParams.extend({ runId: z.string() }) },
          responses: { '200': { description: 'The run', content: json(syncRun) }, ...errorResponses(401, 404) },
        },
      },
      '/organization/{id}/deliveries': {
        get: {
          tags: ['sync history'],
          summary: 'Deliveries of local changes to the output webhooks, newest first',
          description: '`status=failed` lists the dead letters; `externalId` follows one item.',
          security: BEARER_AUTH,
          requestParams: { path: orgParams, query: deliveryListQuerySchema },
          responses: { '200': { description: 'A page of deliveries', content: json(page(delivery)) }, ...errorResponses(400, 401, 404) },
        },
      },
      '/organization/{id}/deliveries/{deliveryId}': {
        get: {
          tags: ['sync history'],
          summary: 'One delivery with its last attempts',
          security: BEARER_AUTH,
          requestParams: { path: orgParams.extend({ deliveryId: z.string() }) },
          responses: { '200': { description: 'The delivery', content: json(delivery) }, ...errorResponses(401, 404) },
        },
      },
      '/organization/{id}/deliveries/{deliveryId}/replay': {
        post: {
          tags: ['sync history'],
          summary: 'Send a finished delivery again (same `webhook-id`)',
          description: 'Refused with 409 while it is pending, or when a newer change of the item exists (replaying would send an older state).',
          security: BEARER_AUTH,
          requestParams: { path: orgParams.extend({ deliveryId: z.string() }) },
          responses: { '202': { description: 'Queued again', content: json(delivery) }, ...errorResponses(401, 404, 409) },
        },
      },
    },
  });
}
