import { z } from 'zod';
import { createApiDocument, errorResponses, type OpenApiDocument } from '@music/platform';
import { faultsSchema } from './faults.routes';
import { generateSchema, webhookConfigSchema } from './music.routes';
import { musicPageQuerySchema } from './pagination';
import { deliveryBodySchema } from './sync.routes';

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

/** music-faker's OpenAPI 3.1 document (the fake third party), from the zod schemas its routes validate with. */
export function fakerApiDocument(options: { metrics: boolean }): OpenApiDocument {
  return createApiDocument({
    title: 'music-faker',
    description: 'A fake third-party music service (in memory) for demos and tests. The `/_faults` and `/_reset` routes exist only because it is a test double.',
    metrics: options.metrics,
    paths: {
      '/music/generate': {
        post: {
          tags: ['music'],
          summary: 'Generate fake songs (calls the `create` webhooks in the background)',
          requestBody: { content: { 'application/json': { schema: generateSchema, example: { count: 5 } } } },
          responses: { '201': { description: 'The new songs', content: json(z.array(song)) }, ...errorResponses(400) },
        },
      },
      '/music': {
        get: {
          tags: ['music'],
          summary: 'Every song; or a page (`page`/`offset` + `limit`), or a cursor walk (`cursor` + `limit`)',
          requestParams: { query: musicPageQuerySchema },
          responses: {
            '200': { description: 'An array, or `{ items, nextCursor }` in cursor mode', content: json(z.union([z.array(item), z.object({ items: z.array(item), nextCursor: z.string().nullable() })])) },
            ...errorResponses(400),
          },
        },
      },
      '/music/config': configOperations,
      '/config': configOperations,
      '/music/{id}': {
        get: { tags: ['music'], summary: 'One song', requestParams: { path: idParams }, responses: { '200': { description: 'The song', content: json(item) }, ...errorResponses(404) } },
        delete: {
          tags: ['music'],
          summary: 'Delete a song (calls the `remove` webhooks in the background)',
          requestParams: { path: idParams },
          responses: { '200': { description: 'The deleted song', content: json(item) }, ...errorResponses(404) },
        },
      },
      '/sync/received': {
        get: { tags: ['receiver'], summary: 'Every delivery received, with counts by outcome', responses: { '200': { description: 'The log', content: json(z.looseObject({ deliveries: z.array(z.unknown()) })) } } },
      },
      '/sync/create': { post: deliveryReceiver('Receive upserts'), put: deliveryReceiver('Receive upserts'), delete: deliveryReceiver('Receive deletes (the brief’s single-URL form)') },
      '/sync/delete': { delete: deliveryReceiver('Receive deletes') },
      '/sync/{id}': {
        delete: {
          tags: ['receiver'],
          summary: 'Receive a delete of one item by id',
          requestParams: { path: idParams },
          responses: { '200': { description: 'Applied (or a duplicate)', content: json(deliveryResult) }, ...errorResponses(400, 401) },
        },
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
      '/_reset': { post: { tags: ['test-only'], summary: 'Forget every song, delivery and fault', responses: { '204': { description: 'Reset' } } } },
    },
  });
}
