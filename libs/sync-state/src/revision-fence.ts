import type { OrganizationRepository } from '@music/persistence';
import type { BatchResult, PreparedBatch } from './item-store';

/** The organization's revision a write follows: its batches are written only while it is still the one. */
export interface AtRevision {
  organizationId: string;
  revision: number;
}

/**
 * Writes a prepared batch (its items' locks held) only while the organization is still at the
 * revision the caller's decision followed, read now, under those locks (one read per batch); null
 * when the revision moved (or the organization is gone): the batch is abandoned, nothing written.
 * Every item write is made under its lock, so a write made under a newer configuration came either
 * before the locks were taken, after that configuration was stored, and this read sees the revision
 * moved; or after the batch. `underLocks` runs after the check, before the batch is written (still
 * under its locks). Used by the configuration reconciliation (rule 8) and a poll's deletion pass (rule 6).
 */
export async function applyAtRevision(
  organizations: Pick<OrganizationRepository, 'revisionOf'>,
  at: AtRevision,
  batch: PreparedBatch,
  underLocks?: () => Promise<unknown>,
): Promise<BatchResult | null> {
  let moved: boolean;
  try {
    moved = (await organizations.revisionOf(at.organizationId)) !== at.revision;
    if (!moved) await underLocks?.();
  } catch (error) {
    // Neither written nor abandoned, the batch would keep its items' locks (renewed) for as long as
    // the process lives, and every other writer of those items would wait on them.
    await batch.abandon().catch(() => undefined);
    throw error;
  }
  if (moved) {
    await batch.abandon();
    return null;
  }
  const written = await batch.apply();
  await batch.released;
  return written;
}
