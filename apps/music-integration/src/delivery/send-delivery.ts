import type { Delivery, DeliveryAttempt, Webhook } from '@music/domain';
import { signedHeaders, type OutboundClient } from '@music/platform';
import { isTransient } from '../engine/transient';

/** One attempt's answer: 2xx succeeded; 408, 429, 5xx, timeouts, network errors and quota are retried; the rest fail for good. */
export interface SentDelivery {
  result: 'succeeded' | 'retry' | 'failed';
  attempt: DeliveryAttempt;
  message: string;
  retryAfterMs?: number;
}

/**
 * Sends one delivery to the webhook's current URL, method and secret: `webhook-id` is the delivery
 * id; during a secret rotation's overlap it is signed with both secrets, so the receiver may switch
 * at any time.
 */
export async function sendDelivery(http: OutboundClient, webhook: Webhook, delivery: Pick<Delivery, 'id' | 'op' | 'body'>): Promise<SentDelivery> {
  const method = delivery.op === 'delete' ? 'DELETE' : webhook.method;
  const overlap = webhook.previousSecretExpiresAt !== undefined && webhook.previousSecretExpiresAt > new Date();
  const headers = { 'content-type': 'application/json', ...signedHeaders([webhook.secret, overlap ? webhook.previousSecret : undefined], delivery.id, delivery.body) };
  const response = await http.send({ method, url: webhook.url, headers, body: delivery.body });
  const attempt: DeliveryAttempt = {
    at: new Date(),
    statusCode: response.ok ? response.status : null,
    error: response.ok ? null : `${response.kind}: ${response.message}`,
    ms: response.ms,
  };
  if (response.ok && response.status >= 200 && response.status < 300) return { result: 'succeeded', attempt, message: '' };
  const transient = isTransient(response);
  const message = response.ok ? `HTTP ${response.status}` : (attempt.error ?? 'failed');
  const retryAfterMs = response.ok && transient ? retryAfter(response.headers['retry-after']) : undefined;
  return { result: transient ? 'retry' : 'failed', attempt, message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
}

/** Retry-After in seconds or as an HTTP date; capped at an hour. */
function retryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, 3600_000) : undefined;
}
