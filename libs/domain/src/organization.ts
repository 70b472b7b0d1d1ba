import { z } from 'zod';
import { mappingsSchema, transformsSchema, type Mappings, type Transform } from './mapping-spec';

export const SYNC_MODES = ['one-way', 'two-way'] as const;
export type SyncMode = (typeof SYNC_MODES)[number];

export const absoluteHttpUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL');

export const webhookInputSchema = z
  .object({
    type: z.enum(['input', 'output']),
    url: absoluteHttpUrl,
    method: z.enum(['POST', 'PUT', 'DELETE']),
    /** Standard Webhooks secret (`whsec_<base64>`, or any string of 16+ characters). */
    secret: z.string().min(16).max(256).optional(),
  })
  .strict();
export type WebhookInput = z.infer<typeof webhookInputSchema>;

export const paginationSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('page'),
      pageParam: z.string().min(1).default('page'),
      limitParam: z.string().min(1).default('limit'),
      limit: z.number().int().min(1).max(10000).default(100),
      firstPage: z.number().int().min(0).default(1),
      maxPages: z.number().int().min(1).max(100000).default(1000),
    })
    .strict(),
  z
    .object({
      type: z.literal('offset'),
      offsetParam: z.string().min(1).default('offset'),
      limitParam: z.string().min(1).default('limit'),
      limit: z.number().int().min(1).max(10000).default(100),
      maxPages: z.number().int().min(1).max(100000).default(1000),
    })
    .strict(),
  z
    .object({
      type: z.literal('cursor'),
      cursorParam: z.string().min(1).default('cursor'),
      /** Dot path of the next cursor in the response body; absent or null ends the walk. */
      nextCursorPath: z.string().min(1).default('nextCursor'),
      limitParam: z.string().min(1).default('limit'),
      limit: z.number().int().min(1).max(10000).default(100),
      maxPages: z.number().int().min(1).max(100000).default(1000),
    })
    .strict(),
]);
export type Pagination = z.infer<typeof paginationSchema>;

export const pollingInputSchema = z
  .object({
    endpoint: absoluteHttpUrl,
    interval: z.number().int().positive().max(100000),
    type: z.enum(['minute', 'hour', 'day']),
    /** Dot path of the records array in the response; omitted = the body is the array. */
    itemsPath: z.string().min(1).max(256).optional(),
    pagination: paginationSchema.optional(),
    /** Delete items the third party no longer returns (only after a complete snapshot). */
    trackDeletes: z.boolean().default(true),
  })
  .strict();
export type PollingInput = z.infer<typeof pollingInputSchema>;

/**
 * The organization body as users send it. The brief spells the webhook list both `webhook` and
 * `webhooks`; both are accepted and `webhooks` is canonical.
 */
export const organizationInputSchema = z.preprocess(
  (body) => {
    if (body && typeof body === 'object' && !Array.isArray(body)) {
      const { webhook, ...rest } = body as Record<string, unknown>;
      if (webhook !== undefined && (rest as Record<string, unknown>)['webhooks'] === undefined) {
        return { ...rest, webhooks: webhook };
      }
      return rest;
    }
    return body;
  },
  z
    .object({
      name: z.string().trim().min(1).max(200).optional(),
      synchronization: z.enum(SYNC_MODES),
      webhooks: z.array(webhookInputSchema).max(20).default([]),
      polling: z.array(pollingInputSchema).max(20).default([]),
      mappings: mappingsSchema,
      transforms: transformsSchema,
    })
    .strict(),
);
export type OrganizationInput = z.infer<typeof organizationInputSchema>;

export interface Webhook extends WebhookInput {
  id: string;
}

export interface PollingEntry extends PollingInput {
  id: string;
}

/** An organization: one tenant's sync settings. */
export interface Organization {
  id: string;
  ownerId: string;
  name: string;
  synchronization: SyncMode;
  webhooks: Webhook[];
  polling: PollingEntry[];
  mappings: Mappings;
  transforms: Transform[];
  /** Incremented on every change; lets consumers skip stale org-changed events. */
  revision: number;
  createdAt: Date;
  updatedAt: Date;
}

/** The output webhooks a local change of kind `op` is delivered to (two-way organizations only). */
export function outputWebhooksFor(org: Organization, op: 'upsert' | 'delete'): Webhook[] {
  if (org.synchronization !== 'two-way') return [];
  const method = op === 'delete' ? 'DELETE' : 'POST';
  // PUT output webhooks receive upserts too.
  return org.webhooks.filter((w) => w.type === 'output' && (w.method === method || (op === 'upsert' && w.method === 'PUT')));
}
