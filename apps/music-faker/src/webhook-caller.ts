import { randomUUID } from 'node:crypto';
import axios from 'axios';
import { signedHeaders, type Logger } from '@music/platform';
import type { FakerState, OutboundCall, WebhookTarget } from './faker-state';

export interface WebhookCallerOptions {
  logger: Logger;
  timeoutMs: number;
}

/**
 * Calls a namespace's webhook targets, fire-and-forget: the request that caused the event is
 * answered without waiting, each call has a timeout and leaves one log line. Every call carries a
 * fresh `webhook-id` and a `webhook-timestamp`; a target with a secret also gets a Standard
 * Webhooks `webhook-signature` over the exact body bytes sent, as a real third party would sign.
 *
 * No SSRF guard on purpose: this is a test double, and the only URLs it calls are the ones its
 * user configured (loopback in the local stack and tests); those control endpoints are off in
 * production (FAKER_CONTROL_ENDPOINTS). Real outbound calls of the product go through the
 * platform's filtered client instead.
 */
export class WebhookCaller {
  constructor(private readonly options: WebhookCallerOptions) {}

  /** POSTs the new songs (one JSON array) to every `create` target of the namespace. */
  created(state: FakerState, items: unknown[]): void {
    for (const target of state.targetsFor('create')) this.send(state, target, 'POST', items);
  }

  /** DELETEs every `remove` target of the namespace with the removed item as the JSON body. */
  removed(state: FakerState, item: unknown): void {
    for (const target of state.targetsFor('remove')) this.send(state, target, 'DELETE', item);
  }

  private send(state: FakerState, target: WebhookTarget, method: OutboundCall['method'], body: unknown): void {
    const { logger, timeoutMs } = this.options;
    const started = Date.now();
    // Serialized once: the signature covers exactly these bytes.
    const payload = JSON.stringify(body);
    const webhookId = `msg_${randomUUID()}`;
    const signed = target.secret !== undefined;
    const call = axios
      .request({
        method,
        url: target.url,
        data: payload,
        // Sent as is (axios would otherwise serialize again).
        transformRequest: [(data: unknown) => data],
        timeout: timeoutMs,
        maxRedirects: 0,
        headers: { 'content-type': 'application/json', 'user-agent': 'music-faker', ...signedHeaders(target.secret, webhookId, payload) },
        // Any answer is a result to log, not an exception.
        validateStatus: () => true,
      })
      .then(
        (res) => ({ status: res.status as number | null, error: null as string | null }),
        (error: unknown) => ({ status: null, error: describe(error) }),
      )
      .then(({ status, error }) => {
        const ms = Date.now() - started;
        state.recordOutbound({ event: target.event, targetId: target.id, webhookId, signed, method, url: target.url, body, status, error, ms });
        const fields = { event: target.event, target: target.id, webhookId, signed, method, url: target.url, ms };
        if (error === null) logger.info('webhook call', { ...fields, status });
        else logger.warn('webhook call failed', { ...fields, error });
      });
    state.track(call);
  }
}

function describe(error: unknown): string {
  if (axios.isAxiosError(error)) return error.code ? `${error.code}: ${error.message}` : error.message;
  return error instanceof Error ? error.message : String(error);
}
