import { DelayedError, type Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { JOB_NAMES, JOBS, QUEUE_NAMES } from '@music/queue';
import type { DependencyContainer } from 'tsyringe';
import { resolve, withContext, type Logger } from '@music/platform';
import { INTEGRATION } from './container';
import type { IntegrationConfig } from './config';
import { processNotify } from './controls/notifications.processor';
import { deliveryBackoffMs } from './delivery/delivery-backoff';
import { processOutput } from './delivery/output.processor';
import { RetryLater, settleJob, type JobOutcome } from './engine/job-outcome';
import { processMaintenance } from './maintenance/maintenance.processor';
import { processOrgChanged } from './maintenance/org-events.processor';
import type { ReconcileAllUseCase } from './maintenance/use-cases/reconcile-all.use-case';
import { processInbound } from './inbound/inbound.processor';
import { processPoll } from './polling/poll.processor';

/** The attempts a deliver job's fan-out made before it (0 for other jobs). */
function priorAttemptsOf(job: { data?: unknown } | undefined): number {
  const prior = (job?.data as { priorAttempts?: unknown } | undefined)?.priorAttempts;
  return typeof prior === 'number' ? prior : 0;
}

export interface RunningWorkers {
  workers: Worker[];
  close: () => Promise<void>;
}

/** Starts one worker per queue; each runs its queue's processor with the use cases it calls (resolved from the container) and settles the job from the outcome. */
export function startWorkers(container: DependencyContainer, connection: ConnectionOptions, config: IntegrationConfig, logger: Logger): RunningWorkers {
  const prefix = config.QUEUE_PREFIX;
  // A killed process's jobs are run again once their lock expires (BullMQ stalled-job recovery).
  const common = { connection, prefix, autorun: true, lockDuration: config.WORKER_LOCK_DURATION_MS, stalledInterval: config.WORKER_STALLED_INTERVAL_MS };
  const slots = resolve(container, INTEGRATION.slots);
  const settle =
    (processor: (job: Job) => Promise<JobOutcome>) =>
    async (job: Job, token?: string): Promise<unknown> =>
      settleJob(job, token, await processor(job));

  const pollDeps = { slots, schedules: resolve(container, INTEGRATION.schedules), runPoll: resolve(container, INTEGRATION.runPoll) };
  const polling = new Worker(QUEUE_NAMES.polling, settle((job) => processPoll(job, pollDeps)), { ...common, concurrency: config.POLL_CONCURRENCY });
  const outputDeps = { slots, fanOutChange: resolve(container, INTEGRATION.fanOutChange), deliverChange: resolve(container, INTEGRATION.deliverChange) };
  const output = new Worker(QUEUE_NAMES.output, settle((job) => processOutput(job, outputDeps)), {
    ...common,
    concurrency: config.OUTPUT_CONCURRENCY,
    settings: {
      backoffStrategy: (attemptsMade: number, _type?: string, error?: Error, job?: { data?: unknown }) =>
        deliveryBackoffMs(attemptsMade + priorAttemptsOf(job), config, error instanceof RetryLater ? error.retryAfterMs : undefined),
    },
  });
  const inboundDeps = { applyInbound: resolve(container, INTEGRATION.applyInbound) };
  const inbound = new Worker(QUEUE_NAMES.inbound, settle((job) => processInbound(job, inboundDeps)), { ...common, concurrency: config.INBOUND_CONCURRENCY });
  const orgEventDeps = { reconcileOrganization: resolve(container, INTEGRATION.reconcileOrganization) };
  const orgEvents = new Worker(QUEUE_NAMES.orgEvents, settle((job) => processOrgChanged(job, orgEventDeps)), { ...common, concurrency: 1 });
  const maintenanceDeps = { sweepLostWork: resolve(container, INTEGRATION.sweepLostWork), purgeOrganization: resolve(container, INTEGRATION.purgeOrganization), recheckMs: config.PURGE_RECHECK_MS };
  const maintenance = new Worker(QUEUE_NAMES.maintenance, settle((job) => processMaintenance(job, maintenanceDeps)), { ...common, concurrency: 2 });
  const notifyDeps = { sendNotification: resolve(container, INTEGRATION.sendNotification) };
  const notifications = new Worker(QUEUE_NAMES.notifications, settle((job) => processNotify(job, notifyDeps)), { ...common, concurrency: 4 });

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
  const housekeeping = { maintenanceQueue: resolve(container, INTEGRATION.queues).maintenance, reconcileAll: resolve(container, INTEGRATION.reconcileAll) };
  const housekeepingCheck = setInterval(() => {
    if (checking) return;
    checking = true;
    void restoreHousekeeping(housekeeping, config, logger).finally(() => (checking = false));
  }, config.SWEEP_INTERVAL_MS);
  housekeepingCheck.unref();

  return {
    workers,
    close: async () => {
      clearInterval(housekeepingCheck);
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}

/**
 * Registers the housekeeping schedulers again, and reconciles every organization's polling
 * schedules, when Redis lost them. Answers whether it had to. Never throws: with Redis down the
 * next check tries again.
 */
export async function restoreHousekeeping(deps: { maintenanceQueue: Queue; reconcileAll: Pick<ReconcileAllUseCase, 'execute'> }, config: IntegrationConfig, logger: Logger): Promise<boolean> {
  try {
    if (await deps.maintenanceQueue.getJobScheduler(SWEEP_SCHEDULER)) return false;
    logger.warn('housekeeping scheduler missing (Redis lost its data?); registering it and reconciling polling schedules');
    await scheduleMaintenance(deps.maintenanceQueue, config);
    await deps.reconcileAll.execute();
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
  // The periodic schedule reconciliation rides on the sweep (see SweepLostWorkUseCase): an `every`
  // scheduler always fires at once, which would repeat the start-up reconciliation.
  await queue.upsertJobScheduler(SWEEP_SCHEDULER, { every: config.SWEEP_INTERVAL_MS }, { name: JOB_NAMES.sweepOutbox, data: { version: 1 }, opts });
}

