import { Result } from '@sapphire/result';
import type { OrganizationRepository } from '@music/persistence';
import type { NotifyJob } from '@music/queue';
import { signedHeaders, type Logger } from '@music/platform';
import type { AccountOutbound } from '../../delivery/account-outbound';
import { isTransient } from '../../engine/transient';

/** What one attempt of a notify job did. */
export type NotifyOutcome =
  | { kind: 'sent'; status: number }
  /** The organization, its notification webhook, or its interest in this event is gone: nothing to send. */
  | { kind: 'skipped'; reason: string };

/** Why an attempt did not send. */
export type NotifyFailure =
  /** 408, 429, 5xx, timeouts, connection errors, the outbound quota: retried with backoff. */
  | { kind: 'retry'; message: string }
  /** Any other answer (a 4xx, a refused address): not retried. */
  | { kind: 'failed'; message: string };

export interface SendNotificationDeps {
  organizations: Pick<OrganizationRepository, 'findById'>;
  http: AccountOutbound;
  logger: Logger;
}

/** The body of a notification: Standard Webhooks' recommended `{ type, timestamp, data }`. */
export const notificationBody = (job: Pick<NotifyJob, 'type' | 'occurredAt' | 'data'>): string => JSON.stringify({ type: job.type, timestamp: job.occurredAt, data: job.data });

/**
 * Sends one notification event to one notification webhook (its current URL and secret), signed
 * (Standard Webhooks) with `webhook-id` = the event's id, the same on every retry.
 */
export class SendNotificationUseCase {
  constructor(private readonly deps: SendNotificationDeps) {}

  async execute(job: NotifyJob): Promise<Result<NotifyOutcome, NotifyFailure>> {
    const deps = this.deps;
    const org = await deps.organizations.findById(job.organizationId);
    if (!org) return Result.ok({ kind: 'skipped', reason: 'the organization was deleted' });
    const target = org.notifications.find((n) => n.id === job.notificationId);
    if (!target || !target.events.includes(job.type)) return Result.ok({ kind: 'skipped', reason: 'the notification webhook was removed or no longer takes this event' });
    const body = notificationBody(job);
    const headers = { 'content-type': 'application/json', ...signedHeaders(target.secret, job.eventId, body) };
    const response = await deps.http.forOrganization(org).send({ method: 'POST', url: target.url, headers, body });
    if (response.ok && response.status >= 200 && response.status < 300) {
      deps.logger.info('notification sent', { type: job.type, eventId: job.eventId, notificationId: target.id, status: response.status });
      return Result.ok({ kind: 'sent', status: response.status });
    }
    const transient = isTransient(response);
    const message = response.ok ? `HTTP ${response.status}` : `${response.kind}: ${response.message}`;
    deps.logger.warn('notification not delivered', { type: job.type, eventId: job.eventId, notificationId: target.id, reason: message, transient });
    return Result.err(transient ? { kind: 'retry', message } : { kind: 'failed', message });
  }
}
