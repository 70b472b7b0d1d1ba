/**
 * Deliberately broken variants of the engine, for checking that the convergence test
 * (e2e/convergence) catches each one: a test-only setting (`SYNC_MUTANT`, refused in production).
 * Each names one rule of docs/sync-model.md that the variant breaks:
 * - `no-fencing`: inbound changes apply whatever their freshness (rule 2): a stale snapshot is applied;
 * - `cross-entry-deletion`: a deletion pass considers every item, not only those its entry may list (rule 6);
 * - `settle-on-first-webhook`: a change settles on the first acknowledgement of several output webhooks (rule 4);
 * - `no-echo-suppression`: an inbound change that updates an item is sent back out (loop freedom);
 * - `no-content-hash`: equal content is written and sent again (rows 5 and 8).
 */
export const SYNC_MUTANTS = ['no-fencing', 'cross-entry-deletion', 'settle-on-first-webhook', 'no-echo-suppression', 'no-content-hash'] as const;
export type SyncMutant = (typeof SYNC_MUTANTS)[number];

let active: SyncMutant | null = null;

/** Selects the broken variant (null: the engine as documented). Process-wide: tests only. */
export function setSyncMutant(mutant: SyncMutant | null): void {
  active = mutant;
}

export function syncMutant(): SyncMutant | null {
  return active;
}
