import { createHash, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * The Standard Webhooks signer/verifier for a stored secret. `whsec_<base64>` secrets (the only form
 * the API accepts, and what it generates) are used as the spec says: the base64 is the key. A plain
 * string stored before that rule existed is taken as raw UTF-8 key bytes, so webhooks configured
 * earlier keep working until their secret is rotated.
 */
export function webhookSigner(secret: string): Webhook {
  return secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
}

/** A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** A new token for an input webhook's call URL (URL-safe, 256 bits). */
export function generateWebhookToken(): string {
  return randomBytes(32).toString('base64url');
}

/** What is stored of an input webhook's token: its SHA-256 (the token is shown once, never kept). */
export function webhookTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Headers of a signed delivery: `webhook-id`, `webhook-timestamp`, and `webhook-signature` with one
 * `v1,<sig>` per secret (space-separated, as the spec allows): during a rotation's overlap window
 * the delivery carries both, so a receiver holding either secret verifies it.
 */
export function signedHeaders(secrets: string | undefined | ReadonlyArray<string | undefined>, messageId: string, body: string, now = new Date()): Record<string, string> {
  const headers: Record<string, string> = {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
  };
  const list = (Array.isArray(secrets) ? secrets : [secrets]).filter((s): s is string => typeof s === 'string' && s.length > 0);
  if (list.length > 0) headers['webhook-signature'] = list.map((s) => webhookSigner(s).sign(messageId, now, body)).join(' ');
  return headers;
}
