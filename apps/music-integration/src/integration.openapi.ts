import { z } from 'zod';
import { BEARER_AUTH, createApiDocument, errorResponses, type OpenApiDocument } from '@music/platform';
import { inboundWebhookQuerySchema } from './inbound/inbound-webhook.routes';
import { deliverySchema, syncRunCountsSchema, syncRunSchema } from '@music/domain';
import { divergenceListQuerySchema } from './history/divergences.routes';
import { deliveryListQuerySchema, syncRunListQuerySchema } from './history/sync-history.routes';
import { bulkReplayBodySchema, pauseBodySchema, resumeBodySchema } from './controls/sync-controls.routes';

const dateTime = z.string().meta({ format: 'date-time' });
// Responses are the domain's own shapes (dates sent as ISO text): the schemas come from
// @music/domain, with the descriptions API users need added here.
const counts = syncRunCountsSchema.extend({
  invalid: syncRunCountsSchema.shape.invalid.meta({ description: 'Records that failed mapping (a sample is in `errors`)' }),
  conflicts: syncRunCountsSchema.shape.conflicts.meta({
    description: 'Inbound changes held: a local change not yet settled wins (dropped once the third party acknowledges it, applied if it never can)',
  }),
  diverged: syncRunCountsSchema.shape.diverged.meta({ description: 'Inbound changes held because their item diverged (see the divergences)' }),
  stale: syncRunCountsSchema.shape.stale.meta({ description: 'Records not fresher than their item’s latest change (the snapshot began before it): skipped' }),
});
const syncRun = syncRunSchema
  .extend({
    counts: counts.meta({ description: 'Updated while the run goes (about every second), final once it has finished' }),
    errors: syncRunSchema.shape.errors.meta({ description: 'Up to 20 records that failed mapping: which record, which field, why' }),
    message: syncRunSchema.shape.message.meta({
      description: 'Why a run is partial, failed, attention or skipped, and why deletions were skipped (a list that shifted while it was read, records without an id)',
    }),
  })
  .meta({ id: 'SyncRun' });
const delivery = deliverySchema
  .extend({
    id: deliverySchema.shape.id.meta({ description: 'Also the `webhook-id` header the third party received' }),
    body: deliverySchema.shape.body.meta({ description: 'The exact JSON body sent' }),
    status: deliverySchema.shape.status.meta({
      description:
        '`failed`: the webhook gave up and a person may still act on it (replay it, or accept the remote version of its item); `resolved`: it failed, then stopped needing a person (`resolution` says why; `lastError` keeps the failure); `superseded`: a newer version of the item exists, never sent; `cancelled`: its webhook was removed, the organization switched to one-way, or the item is gone (`lastError` says which)',
    }),
    deadLettered: deliverySchema.shape.deadLettered.meta({ description: 'A failed delivery that ran out of attempts (transient errors each time); false for one refused for good (a 4xx, a blocked address)' }),
    resolution: deliverySchema.shape.resolution.meta({
      description: 'Why a failed delivery no longer needs a person (status `resolved`): the remote version of its item was accepted, a newer change of the item replaced it, or the organization switched to one-way',
    }),
  })
  .meta({ id: 'Delivery' });
const page = (item: z.ZodType) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next (older) page; null on the last' }) });
const json = (schema: z.ZodType) => ({ 'application/json': { schema } });
const divergence = z
  .object({
    externalId: z.string(),
    state: z.enum(['diverged', 'delete-diverged']).meta({ description: '`delete-diverged`: a local DELETE the third party never took' }),
    data: z.record(z.string(), z.unknown()).meta({ description: 'Our version (the item’s mapped fields)' }),
    version: z.number().int(),
    held: z
      .object({ op: z.enum(['upsert', 'delete']), data: z.record(z.string(), z.unknown()).nullable(), at: dateTime })
      .nullable()
      .meta({ description: 'The latest change the third party sent meanwhile (a poll or an input webhook), kept until resolved' }),
    failedDeliveries: z.array(
      z.object({ id: z.string(), webhookId: z.string(), method: z.enum(['POST', 'PUT', 'DELETE']), op: z.enum(['upsert', 'delete']), attempts: z.number().int(), lastError: z.string().nullable(), updatedAt: dateTime }),
    ),
  })
  .meta({ id: 'Divergence' });
const divergenceParams = z.object({ id: z.string().meta({ description: 'Organization id' }), externalId: z.string() });
const orgParams = z.object({ id: z.string().meta({ description: 'Organization id' }) });
const organizationStatus = z
  .object({
    organizationId: z.string(),
    health: z.enum(['healthy', 'failing', 'paused', 'attention']).meta({
      description:
        '`paused`: the organization, or every polling entry, is paused; `failing`: the last run of a polling entry failed, or a delivery gave up and still needs a person (`failed`: not replayed, not `resolved`); `attention`: a run ended `attention` (the delete guard held) or items diverged; else `healthy`',
    }),
    paused: z.boolean().meta({ description: 'The organization as a whole is paused (polls and deliveries)' }),
    pausedReason: z.string().nullable(),
    pausedAt: dateTime.nullable(),
    pollingEntries: z.array(
      z.object({
        entryId: z.string(),
        url: z.string().meta({ description: 'The endpoint, credentials in the URL shown as ***' }),
        paused: z.boolean().meta({ description: 'No poll runs: the entry or the organization is paused' }),
        pausedBy: z
          .enum(['entry', 'organization'])
          .nullable()
          .meta({
            description:
              '`entry`: paused in its own right (it stays paused when the organization resumes; resume it with its `entryId`), whether or not the organization is paused too; `organization`: held only by the organization’s pause; null: not paused',
          }),
        pausedReason: z.string().nullable().meta({ description: 'The entry’s own reason (an auto-pause says how many runs failed and the last error), else the organization’s' }),
        consecutiveFailures: z.number().int(),
        lastRun: z
          .object({ runId: z.string(), status: syncRun.shape.status, startedAt: dateTime.nullable(), finishedAt: dateTime.nullable(), counts })
          .nullable()
          .meta({ description: 'The latest run that was not skipped (a running one included)' }),
        lastSuccessAt: dateTime.nullable(),
        nextRunAt: dateTime.nullable().meta({ description: 'The next scheduled run; null while paused' }),
      }),
    ),
    items: z.object({ total: z.number().int() }),
    deliveries: z.object({
      pending: z.number().int().meta({ description: 'Being sent or retried (held while the organization is paused)' }),
      deadLettered: z.number().int().meta({ description: 'Gave up after running out of attempts' }),
      failed: z.number().int().meta({ description: 'Every delivery that gave up and still needs a person (dead letters and those refused for good), not replayed and not `resolved`' }),
    }),
    divergedItems: z.number().int(),
  })
  .meta({ id: 'OrganizationStatus' });

const inbound = (method: 'POST' | 'PUT' | 'DELETE') => ({
  tags: ['inbound'],
  summary: method === 'DELETE' ? 'The third party deleted records: remove them' : 'The third party created or changed records: upsert them',
  description:
    'Needs an input webhook with this method on the organization (else 404, as for an unknown organization); when it has a secret, a Standard Webhooks signature over the raw body (`webhook-id`, `webhook-timestamp`, `webhook-signature`), else 401. The call is stored before it is answered (a 202 survives a Redis restart), then applied by a worker, its acceptance time being its freshness; a repeated `webhook-id` of the same organization is a duplicate (applied once) for INBOUND_DEDUPE_RETENTION_MS.',
  requestParams: { query: inboundWebhookQuerySchema },
  requestBody: {
    description: 'One record or an array of records, in the third party’s shape (mapped with the organization’s mappings)',
    content: { 'application/json': { schema: z.union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))]), example: { id: 'a1b2', name: 'Song', artist: 'Artist', album: 'Album' } } },
  },
  responses: {
    '202': { description: 'Stored and queued', content: json(z.object({ accepted: z.number().int(), messageId: z.string(), duplicate: z.boolean() })) },
    ...errorResponses(400, 401, 404, 413, 503),
  },
});

/** music-integration's OpenAPI 3.1 document, built from the zod schemas its routes validate with. */
export function integrationApiDocument(options: { metrics: boolean }): OpenApiDocument {
  return createApiDocument({
    title: 'music-integration',
    description:
      'Inbound webhooks from the third party, the sync history of an organization (poll runs and outbound deliveries, newest first, filtered by status and time, paged with `cursor`), and its divergences (local changes the third party never took) with the ways to resolve them, and its sync controls (status, pause and resume, test events, bulk replay). The queue dashboard (Bull Board, HTTP Basic login) is at /admin/queues.',
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
      '/organization/{id}/divergences': {
        get: {
          tags: ['divergences'],
          summary: 'Local changes the third party never took (a delivery failed or dead-lettered), kept as they are until resolved',
          description: 'Each item stays ours (not overwritten by polls or webhooks, whose latest change is `held`) until it is replayed, the remote version accepted, or changed again locally.',
          security: BEARER_AUTH,
          requestParams: { path: orgParams, query: divergenceListQuerySchema },
          responses: { '200': { description: 'The diverged items', content: json(z.object({ items: z.array(divergence) })) }, ...errorResponses(400, 401, 404) },
        },
      },
      '/organization/{id}/divergences/{externalId}/replay': {
        post: {
          tags: ['divergences'],
          summary: 'Send the failed deliveries of the item again (same `webhook-id`), to their webhooks’ current URLs',
          description: 'The item is pending again; it settles when every replayed webhook answered. 409 when none of its webhooks can take it any more (removed, or the organization is one-way): accept the remote version instead.',
          security: BEARER_AUTH,
          requestParams: { path: divergenceParams },
          responses: {
            '202': { description: 'Queued again', content: json(z.object({ externalId: z.string(), state: z.string(), deliveries: z.array(z.string()) })) },
            ...errorResponses(401, 404, 409),
          },
        },
      },
      '/organization/{id}/divergences/{externalId}/accept-remote': {
        post: {
          tags: ['divergences'],
          summary: 'Take the third party’s version: the held change, or, with none, keep ours if the third party has it and remove it if it never had it',
          security: BEARER_AUTH,
          requestParams: { path: divergenceParams },
          responses: {
            '200': { description: 'Resolved', content: json(z.object({ externalId: z.string(), state: z.string(), data: z.record(z.string(), z.unknown()).nullable() })) },
            ...errorResponses(401, 404),
          },
        },
      },
      '/organization/{id}/status': {
        get: {
          tags: ['sync controls'],
          summary: 'The organization’s health at a glance: pause state, last and next run per polling entry, items, pending and failed deliveries, diverged items',
          security: BEARER_AUTH,
          requestParams: { path: orgParams },
          responses: { '200': { description: 'The status', content: json(organizationStatus) }, ...errorResponses(401, 404) },
        },
      },
      '/organization/{id}/pause': {
        post: {
          tags: ['sync controls'],
          summary: 'Pause the organization, or one polling entry (`entryId`)',
          description:
            'Paused: no scheduled or manual poll runs for that scope (a manual sync answers 409 `SYNC_PAUSED`). An organization’s pause also holds its deliveries (pending, not failed, sent on resume). Input webhooks are still accepted and applied. Pausing what is paused changes nothing. Notification webhooks get `sync.paused`.',
          security: BEARER_AUTH,
          requestParams: { path: orgParams },
          requestBody: { content: json(pauseBodySchema) },
          responses: { '200': { description: 'The status after the pause', content: json(organizationStatus) }, ...errorResponses(400, 401, 404) },
        },
      },
      '/organization/{id}/resume': {
        post: {
          tags: ['sync controls'],
          summary: 'Resume the organization, or one polling entry (`entryId`): held deliveries go out now, schedules run again, the failure count starts again',
          security: BEARER_AUTH,
          requestParams: { path: orgParams },
          requestBody: { content: json(resumeBodySchema) },
          responses: { '200': { description: 'The status after the resume', content: json(organizationStatus) }, ...errorResponses(400, 401, 404) },
        },
      },
      '/organization/{id}/webhooks/{webhookId}/test': {
        post: {
          tags: ['sync controls'],
          summary: 'Send a signed test event (`{ type: "test", timestamp, data }`) to an output webhook now',
          description:
            'Sent with the webhook’s method, current URL and secret (Standard Webhooks headers, `webhook-id` starting `test_`) through the same outbound policy as deliveries; records nothing (no delivery, no item state). 409 for an input webhook.',
          security: BEARER_AUTH,
          requestParams: { path: orgParams.extend({ webhookId: z.string() }) },
          responses: {
            '200': {
              description: 'What the webhook answered (`delivered`: a 2xx)',
              content: json(z.object({ delivered: z.boolean(), status: z.number().int().nullable(), durationMs: z.number(), error: z.string().nullable() })),
            },
            ...errorResponses(401, 404, 409),
          },
        },
      },
      '/organization/{id}/deliveries/replay': {
        post: {
          tags: ['sync history'],
          summary: 'Send failed deliveries again, in bulk, by filter (oldest first, at most `limit`)',
          description:
            'Each by the rules of the single replay (same `webhook-id`; skipped when a newer change of its item exists or its webhook was removed). `status`: `failed` (default) every delivery that gave up, `dead_lettered` only those that ran out of attempts; `since`/`until` bound when they were created.',
          security: BEARER_AUTH,
          requestParams: { path: orgParams },
          requestBody: { content: json(bulkReplayBodySchema) },
          responses: { '202': { description: 'Queued again', content: json(z.object({ replayed: z.number().int(), skipped: z.number().int() })) }, ...errorResponses(400, 401, 404) },
        },
      },
      '/organization/{id}/deliveries/{deliveryId}/replay': {
        post: {
          tags: ['sync history'],
          summary: 'Send a finished delivery again (same `webhook-id`)',
          description: 'Sent to the webhook’s current URL, method and secret. Refused with 409 while it is pending, when a newer change of the item exists (replaying would send an older state), or when its webhook was removed.',
          security: BEARER_AUTH,
          requestParams: { path: orgParams.extend({ deliveryId: z.string() }) },
          responses: { '202': { description: 'Queued again', content: json(delivery) }, ...errorResponses(401, 404, 409) },
        },
      },
    },
  });
}
