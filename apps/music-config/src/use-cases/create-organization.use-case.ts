import { Result } from '@sapphire/result';
import type { AppError } from '@music/platform';
import type { OrganizationUpdate } from '../organization-body';
import type { WrittenOrganization } from '../webhook-credentials';
import { settingsToStore, type OrganizationWriteDeps } from './organization-access';
import type { OrganizationsPerOwner } from './organization-quotas';

export interface CreateOrganizationCommand {
  ownerId: string;
  /** The validated body (see parseOrganizationBody). */
  update: OrganizationUpdate;
}

export interface CreateOrganizationDeps extends OrganizationWriteDeps {
  /** Organizations per account, counted under a lock. */
  perOwner: OrganizationsPerOwner;
}

/** Creates an organization owned by the caller (within its quotas), issues its input webhooks' credentials, and announces it. */
export class CreateOrganizationUseCase {
  constructor(private readonly deps: CreateOrganizationDeps) {}

  async execute(command: CreateOrganizationCommand): Promise<Result<WrittenOrganization, AppError>> {
    const issued = settingsToStore(command.update, null, this.deps.quotas);
    if (issued.isErr()) return Result.err(issued.unwrapErr());
    const { settings, revealed } = issued.unwrap();
    const created = await this.deps.perOwner.withRoomFor(command.ownerId, () => this.deps.organizations.create(command.ownerId, settings));
    if (created.isErr()) return Result.err(created.unwrapErr());
    const org = created.unwrap();
    await this.deps.events.publish(org, 'created', org.revision);
    return Result.ok({ org, revealed });
  }
}
