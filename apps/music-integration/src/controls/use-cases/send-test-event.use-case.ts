import { randomUUID } from 'node:crypto';
import { Result } from '@sapphire/result';
import type { Organization } from '@music/domain';
import { AppError, signedHeaders } from '@music/platform';
import type { AccountOutbound } from '../../delivery/account-outbound';

/** `POST /organization/:id/webhooks/:webhookId/test`'s answer. */
export interface TestEventResult {
  delivered: boolean;
  status: number | null;
  durationMs: number;
  error: string | null;
}

export interface SendTestEventCommand {
  /** An organization the caller owns. */
  organization: Organization;
  webhookId: string;
}

/**
 * Sends a signed test event (`type: 'test'`) to one of the organization's output webhooks now, with
 * its method, current URL and secret(s), through the guarded client; records nothing (no delivery,
 * no item state). The third party's answer, whatever it is, is the result.
 */
export class SendTestEventUseCase {
  constructor(private readonly deps: { http: AccountOutbound }) {}

  async execute(command: SendTestEventCommand): Promise<Result<TestEventResult, AppError>> {
    const org = command.organization;
    const webhook = org.webhooks.find((w) => w.id === command.webhookId);
    if (!webhook) return Result.err(new AppError('NOT_FOUND', 'Webhook not found'));
    if (webhook.type !== 'output') return Result.err(new AppError('CONFLICT', 'Only output webhooks receive test events (input webhooks are called by the third party)'));
    const messageId = `test_${randomUUID()}`;
    const body = JSON.stringify({ type: 'test', timestamp: new Date().toISOString(), data: { organizationId: org.id, webhookId: webhook.id } });
    const overlap = webhook.previousSecretExpiresAt !== undefined && webhook.previousSecretExpiresAt > new Date();
    const headers = { 'content-type': 'application/json', ...signedHeaders([webhook.secret, overlap ? webhook.previousSecret : undefined], messageId, body) };
    const response = await this.deps.http.forOrganization(org).send({ method: webhook.method, url: webhook.url, headers, body });
    if (!response.ok) return Result.ok({ delivered: false, status: null, durationMs: response.ms, error: `${response.kind}: ${response.message}` });
    const delivered = response.status >= 200 && response.status < 300;
    return Result.ok({ delivered, status: response.status, durationMs: response.ms, error: delivered ? null : `HTTP ${response.status}` });
  }
}
