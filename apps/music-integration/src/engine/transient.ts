import type { OutboundResult } from '@music/platform';

/**
 * Whether a failed call to a third party may succeed if made again: 408, 429 and 5xx answers,
 * timeouts, connection errors and the outbound quota (its next window). A blocked or malformed URL,
 * an answer too large and the other statuses do not fix themselves.
 */
export function isTransient(response: OutboundResult): boolean {
  return response.ok ? response.status === 408 || response.status === 429 || response.status >= 500 : response.kind === 'timeout' || response.kind === 'network' || response.kind === 'quota';
}
