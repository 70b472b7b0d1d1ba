import { Result } from '@sapphire/result';
import { assignEntryIds, newEntryId, organizationInputSchema, type Organization, type OrganizationInput, type OrganizationSettings } from '@music/domain';
import { checkTransforms } from '@music/mapping';
import { AppError, parseInput } from '@music/platform';

/**
 * A validated organization body plus what the client asked about secrets: webhook entries sent
 * with `"secret": null` drop their stored secret; entries sent without `secret` keep it.
 */
export interface OrganizationUpdate {
  input: OrganizationInput;
  /** Indexes in `input.webhooks` whose secret was explicitly cleared. */
  clearedSecrets: ReadonlySet<number>;
}

// Fields the API returns but never accepts as input: dropped so a GET response can be sent back
// as a PUT body as is. Any other unknown key is still refused by the strict schema. The `id` of a
// webhook or polling entry is kept: it names the entry being edited (docs/sync-model.md, rule 8).
const READ_ONLY_TOP = ['id', 'revision', 'createdAt', 'updatedAt'];
const READ_ONLY_WEBHOOK = ['hasSecret', 'secretHint'];
const READ_ONLY_POLLING: string[] = [];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function without(obj: Json, keys: string[]): Json {
  const copy = { ...obj };
  for (const k of keys) delete copy[k];
  return copy;
}

/**
 * Normalizes a client body before validation: the brief's `webhook` alias becomes `webhooks`,
 * read-only fields are dropped and `"secret": null` is recorded as a request to clear it.
 */
export function prepareBody(body: unknown): { body: unknown; clearedSecrets: Set<number> } {
  const clearedSecrets = new Set<number>();
  if (!isObject(body)) return { body, clearedSecrets };
  const { webhook, ...rest } = without(body, READ_ONLY_TOP);
  const prepared: Json = { ...rest };
  if (webhook !== undefined && prepared['webhooks'] === undefined) prepared['webhooks'] = webhook;

  const webhooks = prepared['webhooks'];
  if (Array.isArray(webhooks)) {
    prepared['webhooks'] = webhooks.map((entry: unknown, index) => {
      if (!isObject(entry)) return entry;
      const cleaned = without(entry, READ_ONLY_WEBHOOK);
      if (cleaned['secret'] === null) {
        clearedSecrets.add(index);
        delete cleaned['secret'];
      }
      return cleaned;
    });
  }
  const polling = prepared['polling'];
  if (Array.isArray(polling)) {
    prepared['polling'] = polling.map((entry: unknown) => (isObject(entry) ? without(entry, READ_ONLY_POLLING) : entry));
  }
  return { body: prepared, clearedSecrets };
}

/** The schema, then what the schema cannot see: transforms must name mapped fields. */
function parseOrganization(candidate: unknown): Result<OrganizationInput, AppError> {
  return parseInput(organizationInputSchema, candidate, 'Organization').andThen((input) => {
    const problems = checkTransforms(input.mappings, input.transforms);
    return problems.length === 0 ? Result.ok(input) : Result.err(new AppError('VALIDATION_FAILED', 'Organization validation failed', problems));
  });
}

/** Validates a full organization body (POST, PUT). */
export function parseOrganizationBody(body: unknown): Result<OrganizationUpdate, AppError> {
  const prepared = prepareBody(body);
  return parseOrganization(prepared.body).map((input) => ({
    input,
    clearedSecrets: prepared.clearedSecrets,
  }));
}

/** The stored organization in input form (secrets and entry ids included), the base a PATCH merges into. */
export function storedAsInput(org: Organization): Json {
  return {
    name: org.name,
    synchronization: org.synchronization,
    webhooks: org.webhooks,
    polling: org.polling,
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
  const prepared = prepareBody(patch);
  const merged = { ...storedAsInput(org), ...(prepared.body as Json) };
  return parseOrganization(merged).map((input) => ({
    input,
    clearedSecrets: prepared.clearedSecrets,
  }));
}

/**
 * The settings to store: every webhook and polling entry given its id (the id it was sent with, or
 * the stored entry it matches, or a new one: see assignEntryIds), and webhook entries sent without
 * a secret keeping the secret stored for the same webhook (same id), so reading an organization
 * and writing it back loses nothing.
 */
export function keepStoredSecrets(update: OrganizationUpdate, stored: Organization | null): OrganizationSettings {
  const settings = assignEntryIds(update.input, stored, newEntryId);
  const secrets = new Map<string, string>();
  for (const w of stored?.webhooks ?? []) if (w.secret) secrets.set(w.id, w.secret);
  return {
    ...settings,
    webhooks: settings.webhooks.map((w, index) => {
      if (w.secret !== undefined || update.clearedSecrets.has(index)) return w;
      const secret = secrets.get(w.id);
      return secret ? { ...w, secret } : w;
    }),
  };
}
