import { Result } from '@sapphire/result';
import { notFound, type AppError } from '@music/platform';
import type { OrganizationRepository } from '@music/persistence';
import type { OrgEventsPublisher } from './org-events.publisher';
import { rotateCredentials, type WrittenOrganization } from './webhook-credentials';

/**
 * `POST /organization/:id/webhooks/:webhookId/rotate-secret`: a new secret (and, for an input
 * webhook, a new call URL token), shown once; the previous ones keep working for the overlap window
 * (WEBHOOK_SECRET_OVERLAP_SECONDS) so the third party can switch without losing a call.
 */
export class RotateWebhookSecretUseCase {
  constructor(
    private readonly organizations: OrganizationRepository,
    private readonly events: OrgEventsPublisher,
    private readonly overlapSeconds: number,
  ) {}

  async execute(ownerId: string, id: string, webhookId: string): Promise<Result<WrittenOrganization & { webhookId: string }, AppError>> {
    const current = await this.organizations.findOwned(ownerId, id);
    if (!current) return Result.err(notFound('Organization'));
    const rotated = rotateCredentials(current, webhookId, this.overlapSeconds);
    if (!rotated) return Result.err(notFound('Webhook'));
    const org = await this.organizations.replace(ownerId, id, rotated.settings);
    if (!org) return Result.err(notFound('Organization'));
    await this.events.publish(org, 'updated', org.revision);
    return Result.ok({ org, revealed: rotated.revealed, webhookId });
  }
}
