import axios from 'axios';
import type { Logger } from '@music/platform';
import type { FakerState, OutboundCall } from './faker-state';

export interface WebhookCallerOptions {
  state: FakerState;
  logger: Logger;
  timeoutMs: number;
}

/**
 * Calls the faker's configured create/remove webhooks, fire-and-forget: the request that caused
 * the event is answered without waiting, each call has a timeout and leaves one log line.
 *
 * No SSRF guard on purpose: this is a test double, and the only URLs it calls are the ones its
 * user configured with PUT /config (loopback in the local stack and tests). Real outbound calls of
 * the product go through the platform's filtered agent instead.
 */
export class WebhookCaller {
  constructor(private readonly options: WebhookCallerOptions) {}

  /** POSTs the new songs (one JSON array) to every `create` URL. */
  created(items: unknown[]): void {
    for (const url of this.options.state.webhookConfig.create) this.send('create', 'POST', url, items);
  }

  /** DELETEs every `remove` URL with the removed item as the JSON body. */
  removed(item: unknown): void {
    for (const url of this.options.state.webhookConfig.remove) this.send('remove', 'DELETE', url, item);
  }

  private send(event: OutboundCall['event'], method: OutboundCall['method'], url: string, body: unknown): void {
    const { state, logger, timeoutMs } = this.options;
    const started = Date.now();
    const call = axios
      .request({
        method,
        url,
        data: body,
        timeout: timeoutMs,
        maxRedirects: 0,
        headers: { 'content-type': 'application/json', 'user-agent': 'music-faker' },
        // Any answer is a result to log, not an exception.
        validateStatus: () => true,
      })
      .then(
        (res) => ({ status: res.status as number | null, error: null as string | null }),
        (error: unknown) => ({ status: null, error: describe(error) }),
      )
      .then(({ status, error }) => {
        const ms = Date.now() - started;
        state.recordOutbound({ event, method, url, body, status, error, ms });
        if (error === null) logger.info('webhook call', { event, method, url, status, ms });
        else logger.warn('webhook call failed', { event, method, url, error, ms });
      });
    state.track(call);
  }
}

function describe(error: unknown): string {
  if (axios.isAxiosError(error)) return error.code ? `${error.code}: ${error.message}` : error.message;
  return error instanceof Error ? error.message : String(error);
}
