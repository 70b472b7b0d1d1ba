// @ts-check
// An organization's sync status (music-integration's `GET /organization/:id/status`): its health
// as a badge, and what each health means in words.
import { ApiError, controls } from '../api.js';
import { badge, h } from '../dom.js';

/**
 * @typedef {'healthy' | 'failing' | 'paused' | 'attention'} Health
 * @typedef {{ runId: string, status: string, startedAt: string | null, finishedAt: string | null, counts: Record<string, number> }} LastRun
 * @typedef {{ entryId: string, url: string, paused: boolean, pausedBy?: 'entry' | 'organization' | null, pausedReason: string | null, consecutiveFailures: number, lastRun: LastRun | null, lastSuccessAt: string | null, nextRunAt: string | null }} EntryStatus
 * @typedef {{ organizationId: string, health: Health, paused: boolean, pausedReason: string | null, pausedAt: string | null, pollingEntries: EntryStatus[], items: { total: number }, deliveries: { pending: number, deadLettered: number, failed?: number }, divergedItems: number }} SyncStatus
 * @typedef {{ status: SyncStatus } | { status: null, unavailable: string }} StatusAnswer
 */

/** What each health means, beside its badge. */
export const HEALTH_TEXT = /** @type {Record<Health, string>} */ ({
  healthy: 'the last runs went through and every change was delivered',
  failing: 'a polling entry’s last run failed, or deliveries gave up (see Dead letters)',
  paused: 'every polling entry is paused',
  attention: 'a run held deletions back, or items diverged (see Diverged items)',
});

/**
 * The status, or why there is none: a server without the status API answers 404, and the rest of
 * the console works without it.
 * @param {string} id
 * @returns {Promise<StatusAnswer>}
 */
export async function loadStatus(id) {
  try {
    return { status: /** @type {SyncStatus} */ (await controls.status(id)) };
  } catch (error) {
    const e = /** @type {ApiError} */ (error);
    if (e.status === 401) throw error;
    return { status: null, unavailable: e.status === 404 ? 'This server does not report sync status.' : `Sync status unavailable: ${e.message}` };
  }
}

/**
 * "Health: paused" as a badge that says its word (never colour alone).
 * @param {Health} health
 */
export function healthBadge(health) {
  return h('span', { class: 'health' }, h('span', { class: 'visually-hidden' }, 'Health: '), badge(health));
}
