import { Result } from '@sapphire/result';
import { assignEntryIds, newEntryId, organizationInputSchema, type Organization, type OrganizationInput, type OrganizationSettings } from '@music/domain';
import { checkTransforms } from '@music/mapping';
import { AppError, maskUrl, parseInput, type ErrorDetail } from '@music/platform';

/**
 * A validated organization body plus what the client asked about secrets: webhook entries sent
 * with `"secret": null` drop their stored secret, polling entries sent with `"auth": null` drop their
 * credentials; entries sent without them keep what is stored.
 */
export interface OrganizationUpdate {
  input: OrganizationInput;
  /** Indexes in `input.webhooks` whose secret was explicitly cleared. */
  clearedSecrets: ReadonlySet<number>;
  /** Indexes in `input.polling` whose credentials were explicitly cleared. */
  clearedAuth: ReadonlySet<number>;
}

// Fields the API returns but never accepts as input: dropped so a GET response can be sent back
// as a PUT body as is. Any other unknown key is still refused by the strict schema. The `id` of a
// webhook or polling entry is kept: it names the entry being edited (docs/sync-model.md, rule 8).
const READ_ONLY_TOP = ['id', 'revision', 'createdAt', 'updatedAt'];
const READ_ONLY_WEBHOOK = ['hasSecret', 'secretHint', 'verification', 'callUrl', 'callUrlWithToken', 'rotation'];
const READ_ONLY_POLLING: string[] = [];
const READ_ONLY_NOTIFICATION = ['hasSecret', 'secretHint'];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function without(obj: Json, keys: string[]): Json {
  const copy = { ...obj };
  for (const k of keys) delete copy[k];
  return copy;
}

/**
 * What GET showed, back to what is stored: a URL shown masked (`https://***@host`, `?token=***`)
 * and credentials shown as `{ type, hint }` stand for the stored ones of the same entry (same id).
 */
function restoreMasked(entry: Json, stored: Organization | null | undefined, kind: 'webhooks' | 'polling' | 'notifications'): Json {
  const id = entry['id'];
  if (!stored || typeof id !== 'string') return entry;
  if (kind === 'notifications') {
    const match = stored.notifications.find((n) => n.id === id);
    if (match && entry['url'] !== match.url && entry['url'] === maskUrl(match.url)) return { ...entry, url: match.url };
    return entry;
  }
  if (kind === 'webhooks') {
    const match = stored.webhooks.find((w) => w.id === id);
    if (match && entry['url'] !== match.url && entry['url'] === maskUrl(match.url)) return { ...entry, url: match.url };
    return entry;
  }
  const match = stored.polling.find((p) => p.id === id);
  if (!match) return entry;
  const restored = { ...entry };
  if (entry['endpoint'] !== match.endpoint && entry['endpoint'] === maskUrl(match.endpoint)) restored['endpoint'] = match.endpoint;
  const auth = entry['auth'];
  if (isObject(auth) && 'hint' in auth && match.auth && auth['type'] === match.auth.type) restored['auth'] = match.auth;
  return restored;
}

/**
 * Normalizes a client body before validation: the singular `webhook` key (accepted for
 * `webhooks`; `webhooks` wins when both are sent) becomes `webhooks`,
 * masked values GET showed become the stored ones again (with `stored`), read-only fields are
 * dropped, and `"secret": null` / `"auth": null` are recorded as requests to clear them.
 */
export function prepareBody(body: unknown, stored?: Organization | null): { body: unknown; clearedSecrets: Set<number>; clearedAuth: Set<number> } {
  const clearedSecrets = new Set<number>();
  const clearedAuth = new Set<number>();
  if (!isObject(body)) return { body, clearedSecrets, clearedAuth };
  const { webhook, ...rest } = without(body, READ_ONLY_TOP);
  const prepared: Json = { ...rest };
  if (webhook !== undefined && prepared['webhooks'] === undefined) prepared['webhooks'] = webhook;

  const webhooks = prepared['webhooks'];
  if (Array.isArray(webhooks)) {
    prepared['webhooks'] = webhooks.map((entry: unknown, index) => {
      if (!isObject(entry)) return entry;
      const cleaned = without(restoreMasked(entry, stored, 'webhooks'), READ_ONLY_WEBHOOK);
      if (cleaned['secret'] === null) {
        clearedSecrets.add(index);
        delete cleaned['secret'];
      }
      return cleaned;
    });
  }
  const polling = prepared['polling'];
  if (Array.isArray(polling)) {
    prepared['polling'] = polling.map((entry: unknown, index) => {
      if (!isObject(entry)) return entry;
      const cleaned = without(restoreMasked(entry, stored, 'polling'), READ_ONLY_POLLING);
      if (cleaned['auth'] === null) {
        clearedAuth.add(index);
        delete cleaned['auth'];
      }
      return cleaned;
    });
  }
  const notifications = prepared['notifications'];
  if (Array.isArray(notifications)) {
    // A notification webhook always has a secret: `"secret": null` (or none) keeps the stored one.
    prepared['notifications'] = notifications.map((entry: unknown) => {
      if (!isObject(entry)) return entry;
      const cleaned = without(restoreMasked(entry, stored, 'notifications'), READ_ONLY_NOTIFICATION);
      if (cleaned['secret'] === null) delete cleaned['secret'];
      return cleaned;
    });
  }
  return { body: prepared, clearedSecrets, clearedAuth };
}

/** The schema, then what the schema cannot see: transforms must name mapped fields; input webhooks keep a secret. */
function parseOrganization(candidate: unknown, clearedSecrets: ReadonlySet<number>): Result<OrganizationInput, AppError> {
  return parseInput(organizationInputSchema, candidate, 'Organization').andThen((input) => {
    const problems: ErrorDetail[] = checkTransforms(input.mappings, input.transforms);
    input.webhooks.forEach((w, i) => {
      if (w.type === 'input' && clearedSecrets.has(i)) {
        problems.push({ path: `webhooks.${i}.secret`, message: 'input webhooks always have a secret: rotate it with POST /organization/:id/webhooks/:webhookId/rotate-secret' });
      }
    });
    return problems.length === 0 ? Result.ok(input) : Result.err(new AppError('VALIDATION_FAILED', 'Organization validation failed', problems));
  });
}

/** Validates a full organization body (POST; PUT with the stored organization it replaces). */
export function parseOrganizationBody(body: unknown, stored?: Organization | null): Result<OrganizationUpdate, AppError> {
  const prepared = prepareBody(body, stored);
  return parseOrganization(prepared.body, prepared.clearedSecrets).map((input) => ({
    input,
    clearedSecrets: prepared.clearedSecrets,
    clearedAuth: prepared.clearedAuth,
  }));
}

/**
 * The stored organization in input form (entry ids included), the base a PATCH merges into.
 * Without secrets and credentials: keepStoredSecrets carries them over by entry id, whatever form
 * they were stored in (a plain secret from before secrets had to be `whsec_` would fail the schema).
 */
export function storedAsInput(org: Organization): Json {
  return {
    name: org.name,
    synchronization: org.synchronization,
    webhooks: org.webhooks.map((w) => ({ id: w.id, type: w.type, url: w.url, method: w.method })),
    polling: org.polling.map(({ auth: _auth, ...p }) => p),
    notifications: org.notifications.map(({ secret: _secret, ...n }) => n),
    mappings: org.mappings,
    transforms: org.transforms,
  };
}

/**
 * PATCH: the body's top-level keys replace the stored ones, then the result is validated as a
 * whole (so a patch cannot leave the organization invalid, and errors name the merged paths).
 */
export function mergePatch(org: Organization, patch: unknown): Result<OrganizationUpdate, AppError> {
  if (!isObject(patch)) {
    return Result.err(new AppError('VALIDATION_FAILED', 'Organization validation failed', [{ path: '(root)', message: 'must be a JSON object' }]));
  }
  const prepared = prepareBody(patch, org);
  const merged = { ...storedAsInput(org), ...(prepared.body as Json) };
  return parseOrganization(merged, prepared.clearedSecrets).map((input) => ({
    input,
    clearedSecrets: prepared.clearedSecrets,
    clearedAuth: prepared.clearedAuth,
  }));
}

/**
 * The settings to store: every webhook and polling entry given its id (the id it was sent with, or
 * the stored entry it matches, or a new one: see assignEntryIds); webhook entries sent without a
 * secret keep the secret stored for the same webhook (same id), with its rotation state and call
 * URL token; polling entries sent without credentials keep the stored ones. So reading an
 * organization and writing it back loses nothing.
 */
export function keepStoredSecrets(update: OrganizationUpdate, stored: Organization | null): OrganizationSettings {
  const settings = assignEntryIds(update.input, stored, newEntryId);
  const webhooks = new Map((stored?.webhooks ?? []).map((w) => [w.id, w]));
  const polling = new Map((stored?.polling ?? []).map((p) => [p.id, p]));
  const notifications = new Map((stored?.notifications ?? []).map((n) => [n.id, n]));
  return {
    ...settings,
    notifications: (settings.notifications ?? []).map((n) => {
      const secret = n.secret ?? notifications.get(n.id)?.secret;
      return secret !== undefined ? { ...n, secret } : n;
    }),
    webhooks: settings.webhooks.map((w, index) => {
      const same = webhooks.get(w.id);
      if (!same || update.clearedSecrets.has(index)) return w;
      const kept = {
        ...(same.previousSecret !== undefined ? { previousSecret: same.previousSecret } : {}),
        ...(same.previousSecretExpiresAt !== undefined ? { previousSecretExpiresAt: same.previousSecretExpiresAt } : {}),
        ...(same.tokenHash !== undefined ? { tokenHash: same.tokenHash } : {}),
        ...(same.previousTokenHash !== undefined ? { previousTokenHash: same.previousTokenHash } : {}),
      };
      const secret = w.secret ?? same.secret;
      return { ...w, ...kept, ...(secret !== undefined ? { secret } : {}) };
    }),
    polling: settings.polling.map((p, index) => {
      if (p.auth !== undefined || update.clearedAuth.has(index)) return p;
      const same = polling.get(p.id);
      return same?.auth ? { ...p, auth: same.auth } : p;
    }),
  };
}
