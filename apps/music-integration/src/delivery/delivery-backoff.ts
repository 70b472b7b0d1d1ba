import type { IntegrationConfig } from '../config';

/** Exponential backoff with +-20% jitter, capped; a 429's Retry-After wins when longer. */
export function deliveryBackoffMs(attemptsMade: number, config: Pick<IntegrationConfig, 'DELIVERY_BACKOFF_BASE_MS' | 'DELIVERY_BACKOFF_MAX_MS'>, retryAfterMs?: number, random = Math.random): number {
  const exponential = Math.min(config.DELIVERY_BACKOFF_BASE_MS * 2 ** Math.max(0, attemptsMade - 1), config.DELIVERY_BACKOFF_MAX_MS);
  const jittered = Math.round(exponential * (0.8 + 0.4 * random()));
  return retryAfterMs !== undefined ? Math.max(jittered, retryAfterMs) : jittered;
}
