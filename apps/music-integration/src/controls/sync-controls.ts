import type { Queue } from 'bullmq';
import { itemStateOf, type Delivery, type NotificationEvent, type Organization, type SyncRun, type SyncRunStatus } from '@music/domain';
import { defaultControl, type InventoryRepository, type SyncControl, type SyncControlRepository, type SyncRunRepository } from '@music/persistence';
import { addJobs, jobIds, JOBS, type JobSettings, type NotifyJob } from '@music/queue';
import { maskUrl, type Logger } from '@music/platform';
import type { SyncState } from '@music/sync-state';
import type { DeliveryRepository } from '../delivery/delivery.repository';

/** An organization's health at a glance (docs/sync-model.md, "Sync controls"). */
export type Health = 'healthy' | 'failing' | 'paused' | 'attention';

/** `GET /organization/:id/status`. */
export interface OrganizationStatus {
  organizationId: string;
  health: Health;
  paused: boolean;
  pausedReason: string | null;
  pausedAt: string | null;
  pollingEntries: Array<{
    entryId: string;
    url: string;
    /** No poll runs: the entry or the organization is paused. */
    paused: boolean;
    /** `entry`: paused in its own right (whether or not the organization is too); `organization`: held only by the organization's pause. */
    pausedBy: 'entry' | 'organization' | null;
    pausedReason: string | null;
    consecutiveFailures: number;
    lastRun: { runId: string; status: SyncRunStatus; startedAt: string | null; finishedAt: string | null; counts: SyncRun['counts'] } | null;
    lastSuccessAt: string | null;
    nextRunAt: string | null;
  }>;
  items: { total: number };
  /** `deadLettered`: gave up after running out of attempts; `failed`: every delivery that gave up and still needs a person (dead letters included; `resolved` ones not). */
  deliveries: { pending: number; deadLettered: number; failed: number };
  divergedItems: number;
}

export interface SyncControlsDeps {
  controls: SyncControlRepository;
  runs: SyncRunRepository;
  deliveries: DeliveryRepository;
  items: Pick<InventoryRepository, 'countsForOrganization'>;
  sync: Pick<SyncState, 'items' | 'outbound'>;
  queues: { polling: Queue; output: Queue; notifications: Queue };
  jobSettings: JobSettings;
  logger: Logger;
  /** AUTO_PAUSE_AFTER_FAILED_RUNS: a polling entry pauses after this many failed runs in a row (0: never). */
  autoPauseAfter: number;
}

// How long a process trusts what it read of an organization's pause before a delivery (a pause
// takes effect within it; the process that paused or resumed forgets at once).
const PAUSE_CACHE_MS = 1000;

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

/** A BullMQ job id (and our event ids) may not contain ':'. */
const idPart = (value: string): string => value.replace(/:/g, '-');

/**
 * Pause and resume (an organization or one polling entry), the auto-pause after consecutive failed
 * runs, an organization's status, and the notification events sent to its notification webhooks.
 */
export class SyncControls {
  private readonly pausedCache = new Map<string, { at: number; paused: boolean }>();

  constructor(private readonly deps: SyncControlsDeps) {}

  /** Whether polls of the entry may not run now (the organization or the entry is paused). */
  isPollPaused(organizationId: string, entryId: string): Promise<boolean> {
    return this.deps.controls.isPaused(organizationId, entryId);
  }

  /** Whether exactly this scope (the organization, or one entry by itself) is paused. */
  async isScopePaused(organizationId: string, entryId: string | null): Promise<boolean> {
    const controls = await this.deps.controls.listForOrganization(organizationId);
    return controls.some((c) => c.entryId === entryId && c.paused);
  }

  /** Whether the organization's deliveries are held now (read at most every second per process). */
  async isDeliveryPaused(organizationId: string): Promise<boolean> {
    const cached = this.pausedCache.get(organizationId);
    if (cached && Date.now() - cached.at < PAUSE_CACHE_MS) return cached.paused;
    const paused = await this.deps.controls.isPaused(organizationId);
    this.pausedCache.set(organizationId, { at: Date.now(), paused });
    if (this.pausedCache.size > 10_000) this.pausedCache.clear();
    return paused;
  }

  /** Pauses the organization, or one of its polling entries; tells its notification webhooks (`sync.paused`). */
  async pause(org: Organization, entryId: string | null, reason: string | null, automatic = false): Promise<void> {
    const at = new Date();
    await this.deps.controls.setPaused(org.id, entryId, { reason, automatic }, at);
    this.pausedCache.delete(org.id);
    this.deps.logger.info(automatic ? 'polling entry paused automatically' : 'sync paused', { orgId: org.id, entryId, reason });
    await this.notify(org, 'sync.paused', `sync.paused-${org.id}-${entryId ?? 'organization'}-${at.getTime()}`, {
      organizationId: org.id,
      entryId,
      reason,
      automatic,
      pausedAt: at.toISOString(),
    });
  }

  /**
   * Resumes the organization, or one entry. Deliveries held while the organization was paused are
   * sent now (their delayed jobs promoted; any left run at their next check).
   */
  async resume(org: Organization, entryId: string | null): Promise<void> {
    await this.deps.controls.setPaused(org.id, entryId, null);
    this.pausedCache.delete(org.id);
    this.deps.logger.info('sync resumed', { orgId: org.id, entryId });
    if (entryId !== null) return;
    for (const d of await this.deps.sync.outbound.listPending(org.id)) {
      const job = await this.deps.queues.output.getJob(jobIds.deliver(d.id));
      if (job && (await job.getState()) === 'delayed') await job.promote().catch(() => undefined);
    }
  }

  /**
   * A poll run of the entry ended (its last attempt): a failed run counts towards the auto-pause
   * and tells the notification webhooks (`sync.failed`); a run that did not fail starts the count again.
   */
  async runEnded(org: Organization, entryId: string, runId: string, status: SyncRunStatus): Promise<void> {
    if (status === 'skipped' || status === 'queued' || status === 'running') return;
    if (status !== 'failed') {
      await this.deps.controls.recordSuccess(org.id, entryId, status === 'succeeded');
      return;
    }
    const run = await this.deps.runs.findForOrganization(org.id, runId);
    const error = run?.message ?? 'the run failed';
    const failures = await this.deps.controls.recordFailure(org.id, entryId, error);
    const entry = org.polling.find((p) => p.id === entryId);
    await this.notify(org, 'sync.failed', `sync.failed-${runId}`, {
      organizationId: org.id,
      entryId,
      url: entry ? maskUrl(entry.endpoint) : null,
      runId,
      error,
      consecutiveFailures: failures,
    });
    const limit = this.deps.autoPauseAfter;
    if (limit > 0 && failures >= limit && !(await this.deps.controls.isPaused(org.id, entryId))) {
      await this.pause(org, entryId, `paused after ${failures} consecutive failed runs: ${error}`, true);
    }
  }

  /**
   * A delivery gave up (dead-lettered, or refused for good): `delivery.dead_lettered`, and
   * `item.diverged` when its item became diverged by it.
   */
  async deliveryGaveUp(org: Organization, deliveryId: string): Promise<void> {
    if (org.notifications.length === 0) return;
    const delivery = await this.deps.deliveries.findById(deliveryId);
    if (!delivery || delivery.status !== 'failed') return;
    const occurrence = delivery.updatedAt.getTime();
    await this.notify(org, 'delivery.dead_lettered', `delivery.dead_lettered-${delivery.id}-${occurrence}`, deliveryData(delivery));
    const item = await this.deps.sync.items.read(delivery.itemId);
    const state = itemStateOf(item);
    if (item && item.version === delivery.version && (state === 'diverged' || state === 'delete-diverged')) {
      await this.notify(org, 'item.diverged', `item.diverged-${item.id}-${item.version}-${occurrence}`, {
        organizationId: org.id,
        externalId: item.externalId,
        state,
        version: item.version,
        deliveryId: delivery.id,
        reason: delivery.lastError,
      });
    }
  }

  /** Queues one event for every notification webhook of the organization that takes it (idempotent by event id). */
  async notify(org: Pick<Organization, 'id' | 'notifications'>, type: NotificationEvent, eventId: string, data: Record<string, unknown>): Promise<number> {
    const targets = org.notifications.filter((n) => n.events.includes(type));
    if (targets.length === 0) return 0;
    const occurredAt = new Date().toISOString();
    const jobs: NotifyJob[] = targets.map((n) => ({ version: 1, organizationId: org.id, notificationId: n.id, eventId: idPart(eventId), type, occurredAt, data }));
    try {
      await addJobs(this.deps.queues.notifications, JOBS.notify, jobs, this.deps.jobSettings);
    } catch (error) {
      // A notification is best effort: the state it tells of is in the store and the status endpoint.
      this.deps.logger.warn('notification not queued', { orgId: org.id, type, err: (error as Error).message });
      return 0;
    }
    return jobs.length;
  }

  /** The organization's status (see OrganizationStatus). */
  async status(org: Organization): Promise<OrganizationStatus> {
    const controls = await this.deps.controls.listForOrganization(org.id);
    const orgControl = controls.find((c) => c.entryId === null) ?? defaultControl(org.id, null);
    const entryControl = (id: string): SyncControl => controls.find((c) => c.entryId === id) ?? defaultControl(org.id, id);

    const pollingEntries: OrganizationStatus['pollingEntries'] = [];
    for (const entry of org.polling) {
      const control = entryControl(entry.id);
      const pausedBy = control.paused ? ('entry' as const) : orgControl.paused ? ('organization' as const) : null;
      const paused = pausedBy !== null;
      const last = await this.deps.runs.findLatestStarted(org.id, entry.id);
      const lastSuccessAt = await this.deps.runs.lastSucceededAt(org.id, entry.id);
      const scheduler = paused ? undefined : await this.deps.queues.polling.getJobScheduler(jobIds.pollScheduler(org.id, entry.id)).catch(() => undefined);
      pollingEntries.push({
        entryId: entry.id,
        url: maskUrl(entry.endpoint),
        paused,
        pausedBy,
        pausedReason: control.paused ? control.pausedReason : orgControl.paused ? orgControl.pausedReason : null,
        consecutiveFailures: control.consecutiveFailures,
        lastRun: last ? { runId: last.id, status: last.status, startedAt: iso(last.startedAt), finishedAt: iso(last.finishedAt), counts: last.counts } : null,
        lastSuccessAt: iso(lastSuccessAt),
        nextRunAt: scheduler?.next !== undefined ? new Date(scheduler.next).toISOString() : null,
      });
    }

    const [items, { pending, failed, deadLettered }] = await Promise.all([
      this.deps.items.countsForOrganization(org.id),
      this.deps.deliveries.countsForOrganization(org.id),
    ]);
    const divergedItems = items.diverged;

    const everyEntryPaused = pollingEntries.length > 0 && pollingEntries.every((e) => e.paused);
    let health: Health = 'healthy';
    if (orgControl.paused || everyEntryPaused) health = 'paused';
    else if (pollingEntries.some((e) => e.lastRun?.status === 'failed') || failed > 0) health = 'failing';
    else if (pollingEntries.some((e) => e.lastRun?.status === 'attention') || divergedItems > 0) health = 'attention';

    return {
      organizationId: org.id,
      health,
      paused: orgControl.paused,
      pausedReason: orgControl.pausedReason,
      pausedAt: iso(orgControl.pausedAt),
      pollingEntries,
      items: { total: items.live },
      deliveries: { pending, deadLettered, failed },
      divergedItems,
    };
  }
}

function deliveryData(delivery: Delivery): Record<string, unknown> {
  return {
    organizationId: delivery.organizationId,
    deliveryId: delivery.id,
    webhookId: delivery.webhookId,
    externalId: delivery.externalId,
    op: delivery.op,
    attempts: delivery.attempts,
    deadLettered: delivery.deadLettered,
    reason: delivery.lastError,
  };
}
