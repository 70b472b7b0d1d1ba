import { DelayedError, type Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import {
  JOB_NAMES,
  JOBS,
  QUEUE_NAMES,
  deliverJobSchema,
  fanoutJobSchema,
  inboundWebhookJobSchema,
  notifyJobSchema,
  orgChangedJobSchema,
  pollJobSchema,
  purgeOrganizationJobSchema,
  type DeliverJob,
  type FanoutJob,
} from '@music/queue';
import { withContext, type Logger } from '@music/platform';
import type { IntegrationConfig } from './config';
import { deliveryBackoffMs } from './delivery/delivery-backoff';
import type { SyncEngine } from './sync-engine';
import type { SlotKind } from './engine/organization-slots';

/** A transient delivery failure; carries the third party's Retry-After when it gave one. */
class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export { deliveryBackoffMs } from './delivery/delivery-backoff';

/** The record and request a fan-out or deliver job carries, as log context (absent fields left out). */
function traceOf(data: { externalId?: string | undefined; requestId?: string | undefined }): { externalId?: string; requestId?: string } {
  return { ...(data.externalId ? { externalId: data.externalId } : {}), ...(data.requestId ? { requestId: data.requestId } : {}) };
}

/** The attempts a deliver job's fan-out made before it (0 for other jobs). */
function priorAttemptsOf(job: { data?: unknown } | undefined): number {
  const prior = (job?.data as { priorAttempts?: unknown } | undefined)?.priorAttempts;
  return typeof prior === 'number' ? prior : 0;
}

export interface RunningWorkers {
  workers: Worker[];
  close: () => Promise<void>;
}

/** Starts one worker per queue, each processor a thin parse -> use-case. */
export function startWorkers(engine: SyncEngine, connection: ConnectionOptions, config: IntegrationConfig, logger: Logger): RunningWorkers {
  const prefix = config.QUEUE_PREFIX;
  // A killed process's jobs are run again once their lock expires (BullMQ stalled-job recovery).
  const common = { connection, prefix, autorun: true, lockDuration: config.WORKER_LOCK_DURATION_MS, stalledInterval: config.WORKER_STALLED_INTERVAL_MS };

  /**
   * Runs `work` holding one of the organization's slots of this kind; past its cap the job waits
   * its turn (delayed, not an attempt) and the worker takes the next job.
   */
  const withSlot = async <T>(kind: SlotKind, organizationId: string, job: Job, token: string | undefined, work: () => Promise<T>): Promise<T> => {
    const slot = await engine.slots.acquire(kind, organizationId, job.id ?? job.name);
    if (!slot.taken) {
      await job.moveToDelayed(Date.now() + slot.waitMs, token);
      throw new DelayedError();
    }
    try {
      return await work();
    } finally {
      await slot.release();
    }
  };

  const polling = new Worker(
    QUEUE_NAMES.polling,
    async (job: Job, token?: string) => {
      const data = pollJobSchema.parse(job.data);
      return withSlot('poll', data.organizationId, job, token, () => withContext({ orgId: data.organizationId, jobId: job.id }, async () => {
        const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        const outcome = await engine.poll(
          data,
          async (runId) => {
            if (data.runId !== runId) await job.updateData({ ...data, runId });
          },
          lastAttempt,
        );
        if (outcome.kind === 'paused') return { paused: true };
        if (outcome.kind === 'stale') {
          await engine.schedules.remove(data.organizationId, data.pollingId).catch(() => undefined);
          return { stale: true };
        }
        if (outcome.kind === 'retry') throw new Error(outcome.message);
        if (outcome.kind === 'busy') {
          // A manual run waits for the run in progress rather than being skipped: a person asked
          // for a poll that starts after their request. Not an attempt.
          await job.moveToDelayed(Date.now() + 1000, token);
          throw new DelayedError();
        }
        return { runId: outcome.runId, status: outcome.status, counts: outcome.counts };
      }));
    },
    { ...common, concurrency: config.POLL_CONCURRENCY },
  );

  const output = new Worker(
    QUEUE_NAMES.output,
    async (job: Job, token?: string) => {
      if (job.name === JOB_NAMES.fanout) {
        const data: FanoutJob = fanoutJobSchema.parse(job.data);
        return withSlot('deliver', data.organizationId, job, token, () => withContext({ orgId: data.organizationId, jobId: job.id, ...traceOf(data) }, () => engine.fanout(data)));
      }
      const data: DeliverJob = deliverJobSchema.parse(job.data);
      return withSlot('deliver', data.organizationId, job, token, () => withContext({ orgId: data.organizationId, jobId: job.id, deliveryId: data.deliveryId, ...traceOf(data) }, async () => {
        // The fan-out may have made the first attempt: it counts toward DELIVERY_ATTEMPTS.
        const attemptNumber = (data.priorAttempts ?? 0) + job.attemptsMade + 1;
        const outcome = await engine.deliver(data.deliveryId, attemptNumber, attemptNumber >= (job.opts.attempts ?? 1));
        switch (outcome.kind) {
          case 'done':
            return outcome.status;
          case 'wait':
            // Not an attempt: another send of the same item is in flight (or the organization is paused).
            await job.moveToDelayed(Date.now() + (outcome.delayMs ?? 50 + Math.floor(Math.random() * 150)), token);
            throw new DelayedError();
          case 'failed':
            throw new UnrecoverableError(outcome.message);
          case 'retry':
            throw new RetryLater(outcome.message, outcome.retryAfterMs);
          default: {
            const unreachable: never = outcome;
            throw new Error(`unknown outcome ${JSON.stringify(unreachable)}`);
          }
        }
      }));
    },
    {
      ...common,
      concurrency: config.OUTPUT_CONCURRENCY,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, error?: Error, job?: { data?: unknown }) =>
          deliveryBackoffMs(attemptsMade + priorAttemptsOf(job), config, error instanceof RetryLater ? error.retryAfterMs : undefined),
      },
    },
  );

  const inbound = new Worker(
    QUEUE_NAMES.inbound,
    async (job: Job) => {
      const data = inboundWebhookJobSchema.parse(job.data);
      return withContext({ orgId: data.organizationId, jobId: job.id }, () => engine.applyInbound(data));
    },
    { ...common, concurrency: config.INBOUND_CONCURRENCY },
  );

  const orgEvents = new Worker(
    QUEUE_NAMES.orgEvents,
    async (job: Job) => {
      const data = orgChangedJobSchema.parse(job.data);
      return withContext({ orgId: data.organizationId, jobId: job.id }, () => engine.reconcileOrganization(data.organizationId));
    },
    { ...common, concurrency: 1 },
  );

  const maintenance = new Worker(
    QUEUE_NAMES.maintenance,
    async (job: Job, token?: string) => {
      if (job.name !== JOBS.purgeOrganization.name) return engine.sweep();
      const data = purgeOrganizationJobSchema.parse(job.data);
      return withContext({ orgId: data.organizationId, jobId: job.id }, async () => {
        const pass = await engine.purgeOrganization(data);
        if (pass.done) return pass;
        // The same job runs its next pass later (work in flight when the organization was deleted lands meanwhile).
        await job.updateData({ ...data, pass: data.pass + 1 });
        await job.moveToDelayed(Date.now() + config.PURGE_RECHECK_MS, token);
        throw new DelayedError();
      });
    },
    { ...common, concurrency: 2 },
  );

  const notifications = new Worker(
    QUEUE_NAMES.notifications,
    async (job: Job) => {
      const data = notifyJobSchema.parse(job.data);
      return withContext({ orgId: data.organizationId, jobId: job.id }, async () => {
        const outcome = await engine.notify(data);
        if (outcome.kind === 'retry') throw new Error(outcome.message);
        if (outcome.kind === 'failed') throw new UnrecoverableError(outcome.message);
        return outcome;
      });
    },
    { ...common, concurrency: 4 },
  );

  const workers = [polling, output, inbound, orgEvents, maintenance, notifications];
  for (const worker of workers) {
    worker.on('failed', (job, error) => {
      if (error instanceof DelayedError) return;
      // Outside the job's context: name its organization and delivery, so a search by either finds it.
      const data = (job?.data ?? {}) as { organizationId?: unknown; deliveryId?: unknown; externalId?: unknown; requestId?: unknown };
      const ids = {
        ...(job?.id ? { jobId: job.id } : {}),
        ...(typeof data.organizationId === 'string' ? { orgId: data.organizationId } : {}),
        ...(typeof data.deliveryId === 'string' ? { deliveryId: data.deliveryId } : {}),
        ...(typeof data.externalId === 'string' ? { externalId: data.externalId } : {}),
        ...(typeof data.requestId === 'string' ? { requestId: data.requestId } : {}),
      };
      withContext(ids, () => logger.warn('job failed', { queue: worker.name, attemptsMade: job?.attemptsMade, err: error.message }));
    });
    worker.on('error', (error) => logger.error('worker error', { queue: worker.name, err: error.message }));
  }

  // Redis may come back without its data (restarted without persistence, or flushed): the
  // housekeeping scheduler would be gone, and with it the outbox sweep and the periodic polling
  // reconciliation, until this process restarts. Every process checks for it each sweep interval.
  let checking = false;
  const housekeeping = setInterval(() => {
    if (checking) return;
    checking = true;
    void restoreHousekeeping(engine, config, logger).finally(() => (checking = false));
  }, config.SWEEP_INTERVAL_MS);
  housekeeping.unref();

  return {
    workers,
    close: async () => {
      clearInterval(housekeeping);
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}

/**
 * Registers the housekeeping schedulers again, and reconciles every organization's polling
 * schedules, when Redis lost them. Answers whether it had to. Never throws: with Redis down the
 * next check tries again.
 */
export async function restoreHousekeeping(engine: SyncEngine, config: IntegrationConfig, logger: Logger): Promise<boolean> {
  try {
    if (await engine.queues.maintenance.getJobScheduler(SWEEP_SCHEDULER)) return false;
    logger.warn('housekeeping scheduler missing (Redis lost its data?); registering it and reconciling polling schedules');
    await scheduleMaintenance(engine.queues.maintenance, config);
    await engine.reconcileAll();
    return true;
  } catch (error) {
    logger.warn('could not check the housekeeping scheduler', { err: (error as Error).message });
    return false;
  }
}

const SWEEP_SCHEDULER = 'sweep-outbox';

/** Registers the housekeeping schedulers (idempotent; every process may call it). */
export async function scheduleMaintenance(queue: Queue, config: IntegrationConfig): Promise<void> {
  const { jobId: _id, ...opts } = JOBS.sweep.options();
  await queue.upsertJobScheduler(SWEEP_SCHEDULER, { every: config.SWEEP_INTERVAL_MS }, { name: JOB_NAMES.sweepOutbox, data: { version: 1 }, opts });
  // The periodic schedule reconciliation rides on the sweep (see SyncEngine.sweep): an `every`
  // scheduler always fires at once, which would repeat the start-up reconciliation. Earlier
  // versions registered one; remove it.
  await queue.removeJobScheduler('reconcile-schedules');
}

