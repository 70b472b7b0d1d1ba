import type { OutboundClient } from './outbound-http';
import type { RateLimiter } from './rate-limit';

/**
 * An outbound client that spends one call of `account`'s budget for the destination host before
 * each request (the limiter's window, e.g. a minute), so no account can make us call one
 * destination more often than the quota, whatever it configures. Over budget, the request is not
 * sent and fails with kind `quota` (worth retrying after the window).
 */
export function outboundWithQuota(client: OutboundClient, limiter: RateLimiter, account: string, describe: (host: string) => string): OutboundClient {
  return {
    async send(request) {
      let host: string;
      try {
        host = new URL(request.url).host.toLowerCase();
      } catch {
        return client.send(request);
      }
      const allowed = await limiter.consume(`${account}:${host}`);
      if (allowed.isErr()) return { ok: false, kind: 'quota', message: describe(host), ms: 0 };
      return client.send(request);
    },
  };
}
