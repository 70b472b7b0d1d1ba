import { Result } from '@sapphire/result';
import type { Organization, OrganizationSettings, Webhook } from '@music/domain';
import { generateWebhookSecret, generateWebhookToken, notFound, webhookTokenHash, type AppError } from '@music/platform';

/** Credentials shown once, in the answer of the write that created them, keyed by webhook id (notification webhooks: `notificationKey(id)`). */
export type RevealedCredentials = ReadonlyMap<string, { secret?: string; token?: string }>;

/** An organization just written, and the credentials that write generated (shown this once). */
export interface WrittenOrganization {
  org: Organization;
  revealed: RevealedCredentials;
}

/** The settings with every input webhook's credentials issued, and what to show this once. */
export interface IssuedSettings {
  settings: OrganizationSettings;
  revealed: RevealedCredentials;
}

/** The key of a notification webhook's revealed secret. */
export const notificationKey = (id: string): string => `notification:${id}`;

/** Drops a rotation's previous secret and token once their overlap window has passed. */
function withoutExpired(webhook: Webhook, now: Date): Webhook {
  if (!webhook.previousSecretExpiresAt || webhook.previousSecretExpiresAt > now) return webhook;
  const { previousSecret: _s, previousSecretExpiresAt: _e, previousTokenHash: _t, ...rest } = webhook;
  return rest;
}

/**
 * Every input webhook is authenticated: one without a secret gets a generated `whsec_` secret, one
 * without a token gets a generated token (stored as its hash). What was generated is revealed once.
 */
export function issueCredentials(settings: OrganizationSettings, now = new Date()): IssuedSettings {
  const revealed = new Map<string, { secret?: string; token?: string }>();
  const webhooks = settings.webhooks.map((original) => {
    const webhook = withoutExpired(original, now);
    if (webhook.type !== 'input') return webhook;
    const shown: { secret?: string; token?: string } = {};
    let secret = webhook.secret;
    if (!secret) {
      secret = generateWebhookSecret();
      shown.secret = secret;
    }
    let tokenHash = webhook.tokenHash;
    if (!tokenHash) {
      const token = generateWebhookToken();
      tokenHash = webhookTokenHash(token);
      shown.token = token;
    }
    if (shown.secret || shown.token) revealed.set(webhook.id, shown);
    return { ...webhook, secret, tokenHash };
  });
  // Notification webhooks are always signed: one without a secret gets one, shown once.
  const notifications = (settings.notifications ?? []).map((target) => {
    if (target.secret) return target;
    const secret = generateWebhookSecret();
    revealed.set(notificationKey(target.id), { secret });
    return { ...target, secret };
  });
  return { settings: { ...settings, webhooks, notifications }, revealed };
}

/**
 * A rotation: a new secret (and, for an input webhook, a new token); the current ones keep working
 * until `now + overlapSeconds`. NOT_FOUND when the organization has no such webhook.
 */
export function rotateCredentials(org: Organization, id: string, overlapSeconds: number, now = new Date()): Result<IssuedSettings, AppError> {
  const target = org.webhooks.find((w) => w.id === id);
  if (!target) return Result.err(notFound('Webhook'));
  const secret = generateWebhookSecret();
  const token = target.type === 'input' ? generateWebhookToken() : undefined;
  const expiresAt = new Date(now.getTime() + overlapSeconds * 1000);
  const webhooks: Webhook[] = org.webhooks.map((w) => {
    if (w.id !== id) return withoutExpired(w, now);
    const rotated: Webhook = { id: w.id, type: w.type, url: w.url, method: w.method, secret };
    if (token) rotated.tokenHash = webhookTokenHash(token);
    if (overlapSeconds > 0 && w.secret) Object.assign(rotated, { previousSecret: w.secret, previousSecretExpiresAt: expiresAt });
    if (overlapSeconds > 0 && w.tokenHash) Object.assign(rotated, { previousTokenHash: w.tokenHash, previousSecretExpiresAt: expiresAt });
    return rotated;
  });
  return Result.ok({
    settings: { name: org.name, synchronization: org.synchronization, webhooks, polling: org.polling, notifications: org.notifications, mappings: org.mappings, transforms: org.transforms },
    revealed: new Map([[id, token ? { secret, token } : { secret }]]),
  });
}
