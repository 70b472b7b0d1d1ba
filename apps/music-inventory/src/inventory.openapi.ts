import { z } from 'zod';
import type { Mappings } from '@music/domain';
import { BEARER_AUTH, createApiDocument, errorResponses, type OpenApiDocument, type SchemaOverrideContext } from '@music/platform';
import { ORGANIZATION_HEADER, organizationHeaderSchema, pageQuerySchema } from './inventory.routes';
import { itemSchemaFor, type ItemBodyMode } from './item-schema';

// An item body is validated against the organization's own mappings (`itemSchemaFor(org.mappings)`),
// so its fields differ per organization. The document shows the part every organization shares -
// the same function applied to the one mapping every organization has, externalId - and opens it
// to the organization's mapped fields.
const ONLY_EXTERNAL_ID: Mappings = { externalId: { type: 'string', source: 'id', required: true } };

function itemBody(id: string, mode: ItemBodyMode, description: string) {
  return itemSchemaFor(ONLY_EXTERNAL_ID, mode).meta({
    id,
    description,
    override: ({ jsonSchema }: SchemaOverrideContext) => {
      (jsonSchema as Record<string, unknown>)['additionalProperties'] = { description: 'A field of the organization’s mappings, of the mapped type' };
    },
  });
}

const createBody = itemBody(
  'ItemCreate',
  'create',
  '`externalId` and every field of the organization’s mappings (required ones must be present); fields not in the mappings are refused with 400 naming them.',
);
const replaceBody = itemBody('ItemReplace', 'replace', 'Every required mapped field; `externalId` may be repeated but not changed.');
const mergeBody = itemBody('ItemMerge', 'merge', 'Any mapped fields; `null` removes an optional field.');

const dateTime = z.string().meta({ format: 'date-time' });
const itemApi = z
  .looseObject({
    id: z.string(),
    organizationId: z.string(),
    externalId: z.string(),
    sync: z.object({
      state: z
        .enum(['synced', 'pending', 'diverged'])
        .meta({ description: '`pending`: a local change on its way to the third party; `diverged`: a local change the third party never took (see `GET /organization/{id}/divergences` on music-integration)' }),
      version: z.number().int().meta({ description: 'Local changes of a two-way organization, counted' }),
      origin: z.enum(['local', 'remote']).meta({ description: 'Where the last write came from' }),
      pending: z.boolean().meta({ description: 'A local change not yet settled (`state` is not `synced`)' }),
      remoteKnown: z.boolean().meta({ description: 'The third party is known to hold the item' }),
    }),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({ id: 'Item', description: 'The item’s identity, its mapped fields at the top level, and its sync state' });
const itemPage = z.object({ items: z.array(itemApi), nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last' }) });

const optionalOrgHeader = z.object({
  [ORGANIZATION_HEADER]: z.string().optional().meta({ description: 'Optional: restricts the lookup to this organization' }),
});
const idParams = z.object({ id: z.string().meta({ description: 'Item id (as returned by the API)' }) });
const item = { 'application/json': { schema: itemApi } };

/** music-inventory's OpenAPI 3.1 document, built from the zod schemas its routes validate with. */
export function inventoryApiDocument(options: { metrics: boolean }): OpenApiDocument {
  return createApiDocument({
    title: 'music-inventory',
    description:
      'An organization’s inventory, our side of the sync. Every route needs the bearer token from music-auth and sees only the caller’s organizations. A local change of a two-way organization is delivered to its output webhooks (see music-integration’s deliveries).',
    metrics: options.metrics,
    paths: {
      '/inventory': {
        post: {
          tags: ['inventory'],
          summary: 'Create an item in an organization',
          security: BEARER_AUTH,
          requestParams: { header: organizationHeaderSchema },
          requestBody: { content: { 'application/json': { schema: createBody, example: { externalId: 'song-1', name: 'Song', artist: 'Artist', album: 'Album' } } } },
          responses: { '201': { description: 'Created', content: item }, ...errorResponses(400, 401, 404, 409) },
        },
        get: {
          tags: ['inventory'],
          summary: 'Items of every organization of the caller, by id, one page at a time',
          security: BEARER_AUTH,
          requestParams: { query: pageQuerySchema },
          responses: { '200': { description: 'A page', content: { 'application/json': { schema: itemPage } } }, ...errorResponses(400, 401) },
        },
      },
      '/inventory/organization/{orgId}': {
        get: {
          tags: ['inventory'],
          summary: 'Items of one organization, one page at a time',
          security: BEARER_AUTH,
          requestParams: { path: z.object({ orgId: z.string() }), query: pageQuerySchema },
          responses: { '200': { description: 'A page', content: { 'application/json': { schema: itemPage } } }, ...errorResponses(400, 401, 404) },
        },
      },
      '/inventory/{id}': {
        get: {
          tags: ['inventory'],
          summary: 'One item',
          security: BEARER_AUTH,
          requestParams: { path: idParams, header: optionalOrgHeader },
          responses: { '200': { description: 'The item', content: item }, ...errorResponses(401, 404) },
        },
        put: {
          tags: ['inventory'],
          summary: 'Replace an item’s fields',
          security: BEARER_AUTH,
          requestParams: { path: idParams, header: optionalOrgHeader },
          requestBody: { content: { 'application/json': { schema: replaceBody } } },
          responses: { '200': { description: 'Replaced', content: item }, ...errorResponses(400, 401, 404, 409) },
        },
        patch: {
          tags: ['inventory'],
          summary: 'Change some of an item’s fields',
          security: BEARER_AUTH,
          requestParams: { path: idParams, header: optionalOrgHeader },
          requestBody: { content: { 'application/json': { schema: mergeBody } } },
          responses: { '200': { description: 'Updated', content: item }, ...errorResponses(400, 401, 404, 409) },
        },
        delete: {
          tags: ['inventory'],
          summary: 'Delete an item (a two-way organization delivers the DELETE)',
          security: BEARER_AUTH,
          requestParams: { path: idParams, header: optionalOrgHeader },
          responses: { '204': { description: 'Deleted' }, ...errorResponses(401, 404, 409) },
        },
      },
    },
  });
}
