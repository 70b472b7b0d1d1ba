import { Webhook } from 'standardwebhooks';

/**
 * The Standard Webhooks signer/verifier for a configured secret. `whsec_<base64>` secrets are
 * used as the spec says (base64 key); any other string is taken as raw UTF-8 key bytes, so a
 * secret a person typed works the same on both sides.
 */
export function webhookSigner(secret: string): Webhook {
  return secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
}

/** Headers of a signed delivery: `webhook-id`, `webhook-timestamp`, `webhook-signature`. */
export function signedHeaders(secret: string | undefined, messageId: string, body: string, now = new Date()): Record<string, string> {
  const headers: Record<string, string> = {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
  };
  if (secret) headers['webhook-signature'] = webhookSigner(secret).sign(messageId, now, body);
  return headers;
}
