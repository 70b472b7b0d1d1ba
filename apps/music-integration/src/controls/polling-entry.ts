import { Result } from '@sapphire/result';
import type { Organization } from '@music/domain';
import { AppError } from '@music/platform';

/** The polling entry a pause or resume names (null: the whole organization); NOT_FOUND for an id the organization does not have. */
export function pollingEntryOf(org: Organization, entryId: string | undefined): Result<string | null, AppError> {
  if (entryId === undefined) return Result.ok(null);
  return org.polling.some((p) => p.id === entryId) ? Result.ok(entryId) : Result.err(new AppError('NOT_FOUND', 'Polling entry not found'));
}
