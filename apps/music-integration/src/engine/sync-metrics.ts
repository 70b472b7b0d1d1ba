import type { Queue } from 'bullmq';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RecordError, SyncRunCounts, SyncRunStatus } from '@music/domain';
import { SyncRunRepository, type Models } from '@music/persistence';
import { withinDeadline } from '@music/platform';
import type { TransitionObserver } from '@music/sync-state';
import type { DeliverOutcome } from '../delivery/use-cases/deliver-change.use-case';
import type { InboundWebhookSummary } from '../inbound/use-cases/apply-inbound-webhook.use-case';

/** Results a delivery attempt is counted under. */
export type DeliveryResult = 'succeeded' | 'retry' | 'failed' | 'superseded' | 'cancelled' | 'dead_lettered';

// The diverged-items gauge counts in the store at most this often (one scan on the development store).
const DIVERGED_COUNT_EVERY_MS = 30_000;

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;
// A scrape must answer even while Redis does not: the depths are left out rather than waited for.
const QUEUE_COUNT_TIMEOUT_MS = 1000;

/** What the alerting gauges read from the store when scraped (at most every 30 s). */
export interface AlertingSources {
  /** Local changes not yet fanned out, pending deliveries, failed (given-up) deliveries. */
  backlog: () => Promise<{ outbox: number; pending: number; failed: number }>;
  /** The last successful run of every polling entry that is not paused (null: none yet). */
  lastSuccesses: () => Promise<Array<Date | null>>;
}

/**
 * The sync engine's Prometheus metrics, on the app's registry: runs by status, records by outcome,
 * delivery attempts by result, delivery latency, and queue depths (read from Redis at scrape time).
 */
export class SyncMetrics implements TransitionObserver {
  private readonly runs: Counter<'status'>;
  private readonly records: Counter<'source' | 'outcome'>;
  private readonly attempts: Counter<'result'>;
  private readonly latency: Histogram;
  private readonly divergences: Counter<'event'>;
  private readonly pollDuration: Histogram<'status'>;
  /** A divergence began or ended here since the gauge last counted. */
  private divergencesChanged = false;

  /** `countDiverged`: items diverged or delete-diverged now (read from the store when scraped, at most every 30 s). */
  constructor(registry: Registry, queues: Record<string, Queue>, countDiverged?: () => Promise<number>, alerting?: AlertingSources) {
    this.pollDuration = new Histogram({
      name: 'music_poll_run_duration_seconds',
      help: 'Duration of poll runs (each attempt) by how they ended (succeeded, partial, failed, attention, skipped)',
      labelNames: ['status'] as const,
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 7200],
      registers: [registry],
    });
    this.runs = new Counter({
      name: 'music_sync_runs_total',
      help: 'Finished poll runs by status (succeeded, partial, failed, attention, skipped)',
      labelNames: ['status'] as const,
      registers: [registry],
    });
    this.records = new Counter({
      name: 'music_sync_records_total',
      help: 'Inbound records by source (poll, webhook) and outcome (created, updated, unchanged, deleted, invalid, conflict, diverged, stale)',
      labelNames: ['source', 'outcome'] as const,
      registers: [registry],
    });
    this.attempts = new Counter({
      name: 'music_delivery_attempts_total',
      help: 'Outbound delivery attempts by result (succeeded, retry, failed, superseded, cancelled, dead_lettered)',
      labelNames: ['result'] as const,
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'music_delivery_latency_seconds',
      help: 'From a delivery being created (the local change fanned out) to its successful send, retries included',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600],
      registers: [registry],
    });
    this.divergences = new Counter({
      name: 'music_sync_divergences_total',
      help: 'Items that became diverged (a local change the third party never took) and divergences resolved (replayed, accepted or overwritten locally)',
      labelNames: ['event'] as const,
      registers: [registry],
    });
    if (countDiverged) {
      // prom-client calls collect() with the gauge as `this`.
      // eslint-disable-next-line @typescript-eslint/no-this-alias
      const metrics = this;
      let cached: { at: number; value: number } | null = null;
      new Gauge({
        name: 'music_sync_diverged_items',
        help: 'Items diverged now, waiting for a user to replay them or accept the remote version (counted again when this process saw one change, else at most every 30 s)',
        registers: [registry],
        async collect() {
          const now = Date.now();
          if (!cached || metrics.divergencesChanged || now - cached.at > DIVERGED_COUNT_EVERY_MS) {
            metrics.divergencesChanged = false;
            try {
              cached = { at: now, value: await withinDeadline(countDiverged(), QUEUE_COUNT_TIMEOUT_MS, 'diverged items') };
            } catch {
              // The store is slow or down: the last count stands (readiness reports the outage).
            }
          }
          if (cached) this.set(cached.value);
        },
      });
    }
    if (alerting) {
      let backlog: { at: number; value: { outbox: number; pending: number; failed: number } } | null = null;
      const readBacklog = async () => {
        if (!backlog || Date.now() - backlog.at > DIVERGED_COUNT_EVERY_MS) {
          try {
            backlog = { at: Date.now(), value: await withinDeadline(alerting.backlog(), QUEUE_COUNT_TIMEOUT_MS, 'backlog') };
          } catch {
            // The store is slow or down: the last count stands.
          }
        }
        return backlog?.value ?? null;
      };
      // Three gauges read from one backlog count (refreshed at most once per scrape interval).
      const backlogGauges: Array<[string, string, 'outbox' | 'pending' | 'failed']> = [
        ['music_outbox_pending_events', 'Local changes stored with their outgoing event, not fanned out yet (the outbox)', 'outbox'],
        ['music_deliveries_pending', 'Deliveries being sent or retried (held ones of paused organizations included)', 'pending'],
        [
          'music_deliveries_dead_lettered',
          'Deliveries that gave up (attempts ran out, or refused for good) and still need a person (not replayed, not resolved): the dead letters',
          'failed',
        ],
      ];
      for (const [name, help, field] of backlogGauges) {
        new Gauge({
          name,
          help,
          registers: [registry],
          async collect() {
            const value = await readBacklog();
            if (value) this.set(value[field]);
          },
        });
      }
      let since: { at: number; value: number } | null = null;
      new Gauge({
        name: 'music_sync_seconds_since_last_success',
        help: 'The longest time since the last successful poll run, over the polling entries that are not paused and succeeded once (read at most every 30 s)',
        registers: [registry],
        async collect() {
          if (!since || Date.now() - since.at > DIVERGED_COUNT_EVERY_MS) {
            try {
              const times = (await withinDeadline(alerting.lastSuccesses(), QUEUE_COUNT_TIMEOUT_MS, 'last successes')).filter((t): t is Date => t !== null);
              since = { at: Date.now(), value: times.length === 0 ? 0 : Math.max(...times.map((t) => (Date.now() - t.getTime()) / 1000)) };
            } catch {
              // The store is slow or down: the last value stands.
            }
          }
          // The value ages between reads.
          if (since) this.set(since.value > 0 ? since.value + (Date.now() - since.at) / 1000 : 0);
        },
      });
    }
    new Gauge({
      name: 'music_queue_oldest_waiting_seconds',
      help: 'Age of the oldest job waiting in each queue (0 when none waits): workers not keeping up, or stopped',
      labelNames: ['queue'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        await Promise.all(
          Object.values(queues).map(async (queue) => {
            try {
              const [oldest] = await withinDeadline(queue.getJobs(['waiting'], 0, 0, true), QUEUE_COUNT_TIMEOUT_MS, 'oldest job');
              // Waiting since it was added, or since its delay ended.
              const readyAt = oldest ? oldest.timestamp + (oldest.delay ?? 0) : null;
              this.set({ queue: queue.name }, readyAt === null ? 0 : Math.max(0, (Date.now() - readyAt) / 1000));
            } catch {
              // Redis unavailable: no value for this queue in this scrape.
            }
          }),
        );
      },
    });
    new Gauge({
      name: 'music_queue_jobs',
      help: 'Jobs in each BullMQ queue by state, read when scraped',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        await Promise.all(
          Object.values(queues).map(async (queue) => {
            try {
              const counts = await withinDeadline(queue.getJobCounts(...QUEUE_STATES), QUEUE_COUNT_TIMEOUT_MS, 'queue depth');
              for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
            } catch {
              // Redis unavailable: no depth for this queue in this scrape (health/ready reports the outage).
            }
          }),
        );
      },
    });
  }

  /** A poll run finished (or an attempt of it, when the job retries). */
  runFinished(status: SyncRunStatus, counts: SyncRunCounts): void {
    this.runs.inc({ status });
    this.recordsApplied('poll', counts);
  }

  /** One poll attempt's duration, by how it ended. */
  pollRunDuration(seconds: number, status: SyncRunStatus): void {
    this.pollDuration.observe({ status }, seconds);
  }

  /** An input webhook call was applied. */
  inboundApplied(summary: InboundWebhookSummary): void {
    this.recordsApplied('webhook', summary);
  }

  /** What one run of the deliver processor did; `wait` and `skipped` are not attempts. */
  deliveryOutcome(outcome: DeliverOutcome): void {
    switch (outcome.kind) {
      case 'done':
        if (outcome.status === 'skipped') return;
        this.attempts.inc({ result: outcome.status });
        if (outcome.status === 'succeeded' && outcome.latencyMs !== undefined) this.latency.observe(outcome.latencyMs / 1000);
        return;
      case 'retry':
        this.attempts.inc({ result: 'retry' });
        return;
      case 'failed':
        // The last attempt of a transient failure is a retry that ran out: counted as one, and as a dead letter.
        if (outcome.deadLettered) {
          this.attempts.inc({ result: 'retry' });
          this.attempts.inc({ result: 'dead_lettered' });
        } else {
          this.attempts.inc({ result: 'failed' });
        }
        return;
      case 'wait':
        return;
      default: {
        const unreachable: never = outcome;
        throw new Error(`unknown outcome ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** Items became diverged, or divergences were resolved (told by the one writer). */
  divergence(event: 'diverged' | 'resolved', count: number): void {
    this.divergences.inc({ event }, count);
    this.divergencesChanged = true;
  }

  private recordsApplied(source: 'poll' | 'webhook', counts: Omit<SyncRunCounts, 'fetched'>): void {
    const outcomes = {
      created: counts.created,
      updated: counts.updated,
      unchanged: counts.unchanged,
      deleted: counts.deleted,
      invalid: counts.invalid,
      conflict: counts.conflicts,
      diverged: counts.diverged,
      stale: counts.stale,
    };
    for (const [outcome, n] of Object.entries(outcomes)) if (n > 0) this.records.inc({ source, outcome }, n);
  }
}

/** The sync-run repository, counting every run that finishes into the metrics. */
export class MeteredSyncRunRepository extends SyncRunRepository {
  constructor(
    models: Pick<Models, 'syncRuns' | 'organizations'>,
    private readonly metrics: SyncMetrics,
  ) {
    super(models);
  }

  override async finish(
    id: string,
    outcome: { status: SyncRunStatus; counts: SyncRunCounts; pages: number; errors: RecordError[]; message: string | null },
    now?: Date,
  ): Promise<void> {
    await super.finish(id, outcome, now);
    this.metrics.runFinished(outcome.status, outcome.counts);
  }
}
