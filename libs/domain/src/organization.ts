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

/** A webhook's or polling entry's id as the API shows it; sent back to edit that same entry. */
export const entryIdSchema = z.string().trim().min(1).max(64);

export const webhookInputSchema = z
  .object({
    /** Present when editing an existing webhook (its id is kept: pending deliveries follow it). */
    id: entryIdSchema.optional(),
    type: z.enum(['input', 'output']),
    url: absoluteHttpUrl,
    method: z.enum(['POST', 'PUT', 'DELETE']),
    /** Standard Webhooks secret (`whsec_<base64>`, or any string of 16+ characters). */
    secret: z.string().min(16).max(256).optional(),
  })
  .strict();
export type WebhookInput = z.infer<typeof webhookInputSchema>;

/**
 * Dot path of the total number of records in each page's response, when the API reports one: a
 * total that changes between pages (or differs from the records read) shows the list shifted
 * while it was walked, so the walk deletes nothing.
 */
const totalPathSchema = z.string().min(1).max(256).optional();

export const paginationSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('page'),
      pageParam: z.string().min(1).default('page'),
      limitParam: z.string().min(1).default('limit'),
      limit: z.number().int().min(1).max(10000).default(100),
      firstPage: z.number().int().min(0).default(1),
      maxPages: z.number().int().min(1).max(100000).default(1000),
      totalPath: totalPathSchema,
    })
    .strict(),
  z
    .object({
      type: z.literal('offset'),
      offsetParam: z.string().min(1).default('offset'),
      limitParam: z.string().min(1).default('limit'),
      limit: z.number().int().min(1).max(10000).default(100),
      maxPages: z.number().int().min(1).max(100000).default(1000),
      totalPath: totalPathSchema,
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
      totalPath: totalPathSchema,
    })
    .strict(),
]);
export type Pagination = z.infer<typeof paginationSchema>;

export const pollingInputSchema = z
  .object({
    /** Present when editing an existing entry (its id, schedule and the items it listed are kept). */
    id: entryIdSchema.optional(),
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

/** An organization's settings with every webhook and polling entry given its id. */
export type OrganizationSettings = Omit<OrganizationInput, 'webhooks' | 'polling'> & { webhooks: Webhook[]; polling: PollingEntry[] };

/**
 * Gives each webhook and polling entry of `input` its id: the id it was sent with when the stored
 * organization has it; without one, the id of the stored webhook with the same type, method and URL
 * (or the stored entry with the same endpoint); otherwise a new one. Ids are never derived from the
 * URL, so editing a URL, method, secret or interval keeps the id, and with it the pending
 * deliveries and the items an entry listed (docs/sync-model.md, rule 8).
 */
export function assignEntryIds(input: OrganizationInput, stored: Pick<Organization, 'webhooks' | 'polling'> | null, newEntryId: () => string): OrganizationSettings {
  const webhookIds = assignIds(input.webhooks, stored?.webhooks ?? [], (w, s) => s.type === w.type && s.method === w.method && s.url === w.url, newEntryId);
  const pollingIds = assignIds(input.polling, stored?.polling ?? [], (p, s) => s.endpoint === p.endpoint, newEntryId);
  return {
    ...input,
    webhooks: input.webhooks.map(({ id: _sent, ...w }, i) => ({ ...w, id: webhookIds[i] as string })),
    polling: input.polling.map(({ id: _sent, ...p }, i) => ({ ...p, id: pollingIds[i] as string })),
  };
}

function assignIds<I extends { id?: string | undefined }, S extends { id: string }>(inputs: I[], stored: S[], same: (input: I, stored: S) => boolean, newEntryId: () => string): string[] {
  const known = new Set(stored.map((s) => s.id));
  const used = new Set<string>();
  // Entries sent with a known id keep it first, so an entry without an id never takes it from them.
  const ids = inputs.map((i) => {
    if (i.id === undefined || !known.has(i.id) || used.has(i.id)) return undefined;
    used.add(i.id);
    return i.id;
  });
  inputs.forEach((input, k) => {
    if (ids[k] !== undefined || input.id !== undefined) return;
    const match = stored.find((s) => !used.has(s.id) && same(input, s));
    if (match) {
      used.add(match.id);
      ids[k] = match.id;
    }
  });
  return ids.map((id) => {
    if (id !== undefined) return id;
    let fresh = newEntryId();
    while (used.has(fresh) || known.has(fresh)) fresh = newEntryId();
    used.add(fresh);
    return fresh;
  });
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

/** Whether an output webhook takes changes of kind `op`: DELETE webhooks deletes, POST and PUT ones upserts. */
export function webhookTakes(webhook: Pick<Webhook, 'type' | 'method'>, op: 'upsert' | 'delete'): boolean {
  if (webhook.type !== 'output') return false;
  return op === 'delete' ? webhook.method === 'DELETE' : webhook.method === 'POST' || webhook.method === 'PUT';
}

/** The output webhooks a local change of kind `op` is delivered to (two-way organizations only). */
export function outputWebhooksFor(org: Pick<Organization, 'synchronization' | 'webhooks'>, op: 'upsert' | 'delete'): Webhook[] {
  if (org.synchronization !== 'two-way') return [];
  return org.webhooks.filter((w) => webhookTakes(w, op));
}
