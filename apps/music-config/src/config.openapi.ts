import { z } from 'zod';
import { exampleOrganization, NOTIFICATION_EVENTS, organizationInputSchema, pollingInputSchema, SYNC_MODES, transformsSchema, webhookInputSchema } from '@music/domain';
import { BEARER_AUTH, createApiDocument, errorResponses, type OpenApiDocument, type SchemaOverrideContext } from '@music/platform';
import { mappingPreviewBodySchema } from './use-cases/preview-mapping.use-case';

type JsonSchema = Record<string, unknown>;

// zod shares the JSON object of a sub-schema used twice (webhook entries of POST and PATCH): widen each once.
const widened = new WeakSet<object>();

/**
 * The request body the routes accept: `organizationInputSchema` (what they validate with), widened
 * by what `prepareBody` does first: `webhook` accepted for `webhooks`, read-only fields of
 * a GET response ignored (so a GET can be PUT back), and `"secret": null` clearing a stored secret.
 */
function organizationBody(id: string, base: z.ZodType) {
  return base.meta({
    id,
    override: ({ jsonSchema }: SchemaOverrideContext) => {
      const schema = jsonSchema as JsonSchema & { properties?: Record<string, JsonSchema> };
      const properties = schema.properties;
      if (!properties || widened.has(properties)) return;
      widened.add(properties);
      const webhooks = properties['webhooks'];
      const webhookItem = webhooks?.['items'] as (JsonSchema & { properties?: Record<string, JsonSchema> }) | undefined;
      if (webhookItem?.properties && !widened.has(webhookItem)) {
        widened.add(webhookItem);
        const secret = webhookItem.properties['secret'];
        if (secret) {
          webhookItem.properties['secret'] = {
            anyOf: [secret, { type: 'null' }],
            description:
              'Standard Webhooks secret (`whsec_` + base64 of 24-64 bytes). Input webhooks get a generated one when omitted (shown once in the answer). Omitted on an existing webhook keeps the stored one; null clears it (output webhooks only).',
          };
        }
        for (const key of ['hasSecret', 'secretHint', 'verification', 'callUrl', 'callUrlWithToken', 'rotation']) webhookItem.properties[key] = { readOnly: true, description: 'Read-only: accepted and ignored' };
        webhookItem.properties['id'] = { type: 'string', description: 'The webhook being edited (its id is kept, and its pending deliveries follow it); omitted: the stored webhook with the same type, method and URL, else a new one' };
      }
      if (webhooks) properties['webhook'] = { ...webhooks, description: 'Accepted for `webhooks` (`webhooks` wins when both are sent)' };
      const pollingItem = properties['polling']?.['items'] as (JsonSchema & { properties?: Record<string, JsonSchema> }) | undefined;
      if (pollingItem?.properties) {
        pollingItem.properties['id'] = { type: 'string', description: 'The polling entry being edited (its id, schedule and listed items are kept); omitted: the stored entry with the same endpoint, else a new one' };
        const auth = pollingItem.properties['auth'];
        if (auth) {
          pollingItem.properties['auth'] = {
            anyOf: [auth, { type: 'object', properties: { type: { type: 'string' }, hint: { type: 'string' } }, required: ['type', 'hint'] }, { type: 'null' }],
            description: 'Credentials for the endpoint, stored sealed. What GET shows (`{ type, hint }`) keeps the stored ones; omitted keeps them; null removes them.',
          };
        }
      }
      const notificationItem = properties['notifications']?.['items'] as (JsonSchema & { properties?: Record<string, JsonSchema> }) | undefined;
      if (notificationItem?.properties && !widened.has(notificationItem)) {
        widened.add(notificationItem);
        notificationItem.properties['id'] = { type: 'string', description: 'The notification webhook being edited (its id and secret are kept); omitted: the stored one with the same URL, else a new one' };
        const secret = notificationItem.properties['secret'];
        if (secret) {
          notificationItem.properties['secret'] = {
            anyOf: [secret, { type: 'null' }],
            description: 'Standard Webhooks secret the events are signed with; generated when omitted on a new notification webhook (shown once in the answer); omitted or null on an existing one keeps the stored one.',
          };
        }
        for (const key of ['hasSecret', 'secretHint']) notificationItem.properties[key] = { readOnly: true, description: 'Read-only: accepted and ignored' };
      }
      for (const key of ['id', 'revision', 'createdAt', 'updatedAt']) properties[key] = { readOnly: true, description: 'Read-only: accepted and ignored' };
    },
  });
}

// `organizationInputSchema` is a preprocess (the alias) in front of the strict object; PATCH sends
// any subset of that object's top-level keys, merged into the stored organization, then validated whole.
const organizationObject = organizationInputSchema.out;
const createBody = organizationBody('OrganizationInput', organizationInputSchema);
const patchBody = organizationBody('OrganizationPatch', organizationObject.partial());

const dateTime = z.string().meta({ format: 'date-time' });
const organizationApi = z
  .object({
    id: z.string(),
    name: z.string(),
    synchronization: z.enum(SYNC_MODES),
    webhooks: z.array(
      z.object({
        id: z.string(),
        type: webhookInputSchema.shape.type,
        url: z.string(),
        method: webhookInputSchema.shape.method,
        hasSecret: z.boolean(),
        secretHint: z.string().nullable().meta({ description: 'The last characters of the secret; the secret itself is never returned after the write that generated it' }),
        verification: z
          .enum(['signature-or-token', 'none'])
          .optional()
          .meta({ description: 'Input webhooks: what a call must carry. `none`: this deployment (development) also accepts calls with neither' }),
        callUrl: z.string().optional().meta({ description: 'Input webhooks: where the third party calls, signing with the secret' }),
        callUrlWithToken: z.string().optional().meta({ description: 'Input webhooks, only in the answer that generated it: the call URL with its token, for third parties that cannot sign' }),
        secret: z.string().optional().meta({ description: 'Only in the answer that generated it: the secret (`whsec_...`), never shown again' }),
        rotation: z.object({ previousSecretExpiresAt: dateTime }).optional().meta({ description: 'After a rotation: the previous secret (and token) work until then' }),
      }),
    ),
    polling: z.array(
      pollingInputSchema.omit({ auth: true }).extend({
        id: z.string(),
        endpoint: z.string().meta({ description: 'Credentials in the URL are shown as ***' }),
        auth: z
          .object({ type: z.enum(['bearer', 'header', 'basic']), name: z.string().optional(), username: z.string().optional(), hint: z.string() })
          .optional()
          .meta({ description: 'The credentials’ type, header name or user name, and a hint; never the secret' }),
      }),
    ),
    notifications: z
      .array(
        z.object({
          id: z.string(),
          url: z.string().meta({ description: 'Credentials in the URL are shown as ***' }),
          events: z.array(z.enum(NOTIFICATION_EVENTS)),
          hasSecret: z.boolean(),
          secretHint: z.string().nullable(),
          secret: z.string().optional().meta({ description: 'Only in the answer that generated it: the signing secret (`whsec_...`), never shown again' }),
        }),
      )
      .meta({
        description:
          'Notification webhooks: `sync.failed`, `sync.paused`, `delivery.dead_lettered`, `item.diverged` events POSTed as `{ type, timestamp, data }`, signed (Standard Webhooks, `webhook-id` stable per event), retried with backoff',
      }),
    mappings: z.record(z.string(), z.record(z.string(), z.unknown())).meta({ description: 'As sent, with `required` stored as a boolean' }),
    transforms: transformsSchema,
    revision: z.number().int(),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({ id: 'Organization' });

const idParams = z.object({ id: z.string().meta({ description: 'Organization id' }) });

const fieldErrors = z.array(z.object({ path: z.string(), message: z.string() }));
const mappingPreviewApi = z
  .object({
    source: z.union([
      z.object({ kind: z.literal('sample') }),
      z.object({ kind: z.literal('polling'), pollingId: z.string(), endpoint: z.string(), ok: z.literal(true), httpStatus: z.number().int(), ms: z.number() }),
      z.object({ kind: z.literal('polling'), pollingId: z.string(), endpoint: z.string(), ok: z.literal(false), error: z.string() }),
    ]),
    mapping: z.enum(['saved', 'draft']),
    reversible: z.boolean().meta({ description: 'Items mapped back to the third party’s shape read the same again (what two-way needs)' }),
    counts: z.object({ records: z.number().int(), valid: z.number().int(), invalid: z.number().int() }),
    results: z.array(
      z.union([
        z.object({ index: z.number().int(), record: z.unknown(), ok: z.literal(true), item: z.object({ externalId: z.string(), data: z.record(z.string(), z.unknown()) }) }),
        z.object({ index: z.number().int(), record: z.unknown(), ok: z.literal(false), externalId: z.string().optional(), errors: fieldErrors }),
      ]),
    ).meta({ description: 'The first 50 records, each with its mapped item or its errors' }),
  })
  .meta({ id: 'MappingPreview' });

/** music-config's OpenAPI 3.1 document, built from the zod schemas its routes validate with. */
export function configApiDocument(options: { metrics: boolean }): OpenApiDocument {
  const org = { 'application/json': { schema: organizationApi } };
  return createApiDocument({
    title: 'music-config',
    description:
      'Organizations: sync mode, webhooks, polling entries, mappings and transforms. Every route needs the bearer token from music-auth and sees only the caller’s organizations (any other id answers 404).',
    metrics: options.metrics,
    paths: {
      '/organization': {
        post: {
          tags: ['organizations'],
          summary: 'Create an organization (registers its polling schedules)',
          security: BEARER_AUTH,
          // The canonical example (the local stack's faker on 5000): "Try it out" creates an organization that syncs.
          requestBody: { content: { 'application/json': { schema: createBody, example: exampleOrganization() } } },
          description:
            'Each input webhook gets a generated secret and a call URL token, shown once in this answer (`secret`, `callUrlWithToken`). Quotas per account: QUOTA_ORGANIZATIONS_PER_USER organizations, QUOTA_POLLING_ENTRIES_PER_ORGANIZATION polling entries, `maxPages` up to QUOTA_PAGES_PER_RUN (429 naming the limit).',
          responses: { '201': { description: 'Created; `Location` names it', content: org }, ...errorResponses(400, 401, 429) },
        },
        get: {
          tags: ['organizations'],
          summary: 'The caller’s organizations',
          security: BEARER_AUTH,
          responses: { '200': { description: 'Organizations', content: { 'application/json': { schema: z.object({ organizations: z.array(organizationApi) }) } } }, ...errorResponses(401) },
        },
      },
      '/organization/{id}': {
        get: {
          tags: ['organizations'],
          summary: 'One organization (webhook secrets are never returned)',
          security: BEARER_AUTH,
          requestParams: { path: idParams },
          responses: { '200': { description: 'The organization', content: org }, ...errorResponses(401, 404) },
        },
        put: {
          tags: ['organizations'],
          summary: 'Replace an organization (a GET response can be sent back as is)',
          security: BEARER_AUTH,
          requestParams: { path: idParams },
          requestBody: { content: { 'application/json': { schema: createBody } } },
          responses: { '200': { description: 'Replaced', content: org }, ...errorResponses(400, 401, 404, 429) },
        },
        patch: {
          tags: ['organizations'],
          summary: 'Replace some top-level fields; the result is validated as a whole',
          security: BEARER_AUTH,
          requestParams: { path: idParams },
          requestBody: { content: { 'application/json': { schema: patchBody, example: { name: 'Renamed' } } } },
          responses: { '200': { description: 'Updated', content: org }, ...errorResponses(400, 401, 404, 429) },
        },
        delete: {
          tags: ['organizations'],
          summary: 'Delete an organization: gone from every API at once; its schedules, pending work, items, deliveries, runs and inbound messages are removed by a durable job',
          security: BEARER_AUTH,
          requestParams: { path: idParams },
          responses: {
            '202': {
              description: 'Deleted; the cleanup is scheduled',
              content: { 'application/json': { schema: z.object({ id: z.string(), deleted: z.literal(true), cleanup: z.literal('scheduled') }) } },
            },
            ...errorResponses(401, 404),
          },
        },
      },
      '/organization/{id}/mapping-preview': {
        post: {
          tags: ['sync'],
          summary: 'Dry run of the mapping: the first page of a polling endpoint (or a pasted sample), each record with its mapped item or its errors; writes nothing',
          description:
            'Reads at most one page (the first, with the parameters a poll sends) through the same guarded client as polls: refused addresses answer `blocked by the outbound policy`, and the read is bounded by OUTBOUND_TIMEOUT_MS and MAPPING_PREVIEW_MAX_BYTES. `records` maps a pasted sample instead (no request is made). `mappings` / `transforms` try a draft instead of the saved ones. A failed read is reported in `source.error` (200). Reads of an endpoint count against MAPPING_PREVIEW_RATE_LIMIT_PER_MINUTE (30) per organization.',
          security: BEARER_AUTH,
          requestParams: { path: idParams },
          requestBody: { content: { 'application/json': { schema: mappingPreviewBodySchema, example: { records: [{ id: 'song-1', name: 'A Song', artist: 'An Artist', album: 'An Album' }, { id: 'song-2', name: 'No album' }] } } } },
          responses: { '200': { description: 'The preview', content: { 'application/json': { schema: mappingPreviewApi } } }, ...errorResponses(400, 401, 404, 409, 429) },
        },
      },
      '/organization/{id}/webhooks/{webhookId}/rotate-secret': {
        post: {
          tags: ['organizations'],
          summary: 'Rotate a webhook’s secret (and an input webhook’s call URL token)',
          description:
            'The new secret and call URL are shown once, in this answer. The previous ones keep working for WEBHOOK_SECRET_OVERLAP_SECONDS (24 h by default): input calls verify with either; output deliveries carry a signature with each.',
          security: BEARER_AUTH,
          requestParams: { path: z.object({ id: z.string().meta({ description: 'Organization id' }), webhookId: z.string().meta({ description: 'Webhook id' }) }) },
          responses: {
            '200': { description: 'Rotated', content: { 'application/json': { schema: z.object({ webhook: organizationApi.shape.webhooks.element }) } } },
            ...errorResponses(401, 404),
          },
        },
      },
      '/organization/{id}/sync': {
        post: {
          tags: ['sync'],
          summary: 'Poll now: one queued run per polling entry',
          description:
            'Answers at once with the queued runs. Watch one with `GET /organization/{id}/sync-runs/{runId}` on music-integration: its `status` goes queued -> running -> succeeded/partial/failed/attention/skipped, and its `counts` and `pages` move while it runs. A paused organization answers 409 `SYNC_PAUSED` (as does one whose every polling entry is paused; paused entries are left out otherwise): resume it with `POST /organization/{id}/resume` on music-integration. At most MANUAL_SYNC_RATE_LIMIT_PER_MINUTE (10) per organization per minute and QUOTA_MANUAL_SYNCS_PER_USER_PER_HOUR (120) per account; more answer 429 with Retry-After and the limit named.',
          security: BEARER_AUTH,
          requestParams: { path: idParams },
          responses: {
            '202': {
              description: 'Queued',
              content: {
                'application/json': {
                  schema: z.object({ runs: z.array(z.object({ id: z.string(), pollingId: z.string(), endpoint: z.string(), status: z.literal('queued') })) }),
                },
              },
            },
            ...errorResponses(401, 404, 409, 429, 503),
          },
        },
      },
    },
  });
}
