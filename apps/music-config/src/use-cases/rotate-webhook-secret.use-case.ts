import { Result } from '@sapphire/result';
import type { AppError } from '@music/platform';
import { rotateCredentials, type WrittenOrganization } from '../webhook-credentials';
import { findOwnedOrganization, storeSettings, type OrganizationWriteDeps } from './organization-access';

export interface RotateWebhookSecretCommand {
  ownerId: string;
  organizationId: string;
  webhookId: string;
}

export interface RotateWebhookSecretDeps extends Pick<OrganizationWriteDeps, 'organizations' | 'events'> {
  /** How long the previous secret and token keep working (WEBHOOK_SECRET_OVERLAP_SECONDS). */
  overlapSeconds: number;
}

/**
 * `POST /organization/:id/webhooks/:webhookId/rotate-secret`: a new secret (and, for an input
 * webhook, a new call URL token), shown once; the previous ones keep working for the overlap window
 * (WEBHOOK_SECRET_OVERLAP_SECONDS) so the third party can switch without losing a call.
 */
export class RotateWebhookSecretUseCase {
  constructor(private readonly deps: RotateWebhookSecretDeps) {}

  async execute(command: RotateWebhookSecretCommand): Promise<Result<WrittenOrganization & { webhookId: string }, AppError>> {
    const current = await findOwnedOrganization(this.deps.organizations, command.ownerId, command.organizationId);
    if (current.isErr()) return Result.err(current.unwrapErr());
    const stored = current.unwrap();
    const rotated = rotateCredentials(stored, command.webhookId, this.deps.overlapSeconds);
    if (rotated.isErr()) return Result.err(rotated.unwrapErr());
    const written = await storeSettings(this.deps, stored, rotated.unwrap());
    return written.map((w) => ({ ...w, webhookId: command.webhookId }));
  }
}
