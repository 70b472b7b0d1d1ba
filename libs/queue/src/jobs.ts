import type { JobsOptions, Queue } from 'bullmq';
import { z } from 'zod';
import {
  deliverJobSchema,
  fanoutJobSchema,
  inboundWebhookJobSchema,
  notifyJobSchema,
  orgChangedJobSchema,
  pollJobSchema,
  purgeOrganizationJobSchema,
  sweepOutboxJobSchema,
  type DeliverJob,
  type FanoutJob,
  type InboundWebhookJob,
  type NotifyJob,
  type OrgChangedJob,
  type PollJob,
  type PurgeOrganizationJob,
  type SweepOutboxJob,
} from './payloads';
import { JOB_NAMES, QUEUE_NAMES, jobIds, type QueueName } from './queue-names';

/** The retry settings a deployment chooses (parsed once per app from `jobSettingsEnvSchema`). */
export interface JobSettings {
  /** Attempts per delivery before it is dead-lettered. */
  deliveryAttempts: number;
  /** Attempts per poll job on transient fetch failures. */
  pollAttempts: number;
}

/** The environment settings of job retries, shared by every app that produces poll or deliver jobs. */
export const jobSettingsEnvSchema = z.object({
  /** Attempts per delivery before it is dead-lettered. */
  DELIVERY_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(10),
  /** Attempts per poll job (transient fetch failures); the next scheduled poll runs anyway. */
  POLL_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
});

export function jobSettingsFrom(env: z.infer<typeof jobSettingsEnvSchema>): JobSettings {
  return { deliveryAttempts: env.DELIVERY_ATTEMPTS, pollAttempts: env.POLL_ATTEMPTS };
}

/**
 * One kind of job, defined once: its queue, name, payload schema and options (attempts, backoff,
 * removal). Every producer adds it through `addJob`/`jobRequest`, so a manual sync, the sweeper
 * and a replay get the same retries as every other producer of the same job.
 */
export interface JobDefinition<P> {
  queue: QueueName;
  name: string;
  schema: z.ZodType<P>;
  /** The stable job id (BullMQ ignores an add whose id exists: enqueues are idempotent). */
  jobId: (payload: P) => string;
  options: (settings: JobSettings) => JobsOptions;
}

// Completed jobs are kept an hour (enough for idempotent re-adds by id), failed ones a week. No
// correctness depends on them: deliveries, inbound messages and purges are recorded in the store.
const KEEP = { removeOnComplete: { age: 3600, count: 10000 }, removeOnFail: { age: 7 * 24 * 3600 } } as const;

/** How long finished jobs are kept (every definition's removal options). */
export const DEFAULT_JOB_OPTIONS: JobsOptions = KEEP;

export const JOBS = {
  /** A poll of one polling entry: scheduled (`poll:<orgId>:<pollingId>`) or manual (`POST /organization/:id/sync`). */
  poll: {
    queue: QUEUE_NAMES.polling,
    name: JOB_NAMES.poll,
    schema: pollJobSchema,
    jobId: (p: PollJob) => (p.runId ? jobIds.manualPoll(p.runId) : jobIds.pollScheduler(p.organizationId, p.pollingId)),
    options: (s: JobSettings): JobsOptions => ({ ...KEEP, attempts: s.pollAttempts, backoff: { type: 'exponential', delay: 2000 } }),
  } satisfies JobDefinition<PollJob>,
  /** A local change (the item's outbox event) to fan out to the output webhooks. */
  fanout: {
    queue: QUEUE_NAMES.output,
    name: JOB_NAMES.fanout,
    schema: fanoutJobSchema,
    jobId: (p: FanoutJob) => jobIds.fanout(p.eventId),
    // A fan-out that failed for good stays in the failed set under its id (a re-add is ignored):
    // retrying keeps a passing store blip from parking an event until the sweeper.
    options: (): JobsOptions => ({ ...KEEP, attempts: 5, backoff: { type: 'exponential', delay: 1000 } }),
  } satisfies JobDefinition<FanoutJob>,
  /** One delivery; backoff `delivery` is the worker's (exponential with jitter, Retry-After honoured). */
  deliver: {
    queue: QUEUE_NAMES.output,
    name: JOB_NAMES.deliver,
    schema: deliverJobSchema,
    jobId: (p: DeliverJob) => jobIds.deliver(p.deliveryId),
    options: (s: JobSettings): JobsOptions => ({ ...KEEP, attempts: s.deliveryAttempts, backoff: { type: 'delivery' } }),
  } satisfies JobDefinition<DeliverJob>,
  /** A stored input-webhook call to apply. */
  inboundWebhook: {
    queue: QUEUE_NAMES.inbound,
    name: JOB_NAMES.inboundWebhook,
    schema: inboundWebhookJobSchema,
    jobId: (p: InboundWebhookJob) => jobIds.inbound(p.storedId),
    options: (): JobsOptions => ({ ...KEEP, attempts: 5, backoff: { type: 'exponential', delay: 1000 } }),
  } satisfies JobDefinition<InboundWebhookJob>,
  /** An organization was created, changed or deleted: schedules and pending work follow its configuration. */
  orgChanged: {
    queue: QUEUE_NAMES.orgEvents,
    name: JOB_NAMES.orgChanged,
    schema: orgChangedJobSchema,
    jobId: (p: OrgChangedJob) => jobIds.orgChanged(p.organizationId, p.revision, p.kind),
    options: (): JobsOptions => ({ ...KEEP, attempts: 5, backoff: { type: 'exponential', delay: 1000 } }),
  } satisfies JobDefinition<OrgChangedJob>,
  /** One pass of a deleted organization's purge (the sweeper re-queues unfinished purges). */
  purgeOrganization: {
    queue: QUEUE_NAMES.maintenance,
    name: JOB_NAMES.purgeOrganization,
    schema: purgeOrganizationJobSchema,
    jobId: (p: PurgeOrganizationJob) => jobIds.purgeOrganization(p.organizationId),
    options: (): JobsOptions => ({ ...KEEP, attempts: 10, backoff: { type: 'exponential', delay: 5000 } }),
  } satisfies JobDefinition<PurgeOrganizationJob>,
  /**
   * One notification event to one notification webhook. Retried with backoff (2 s doubling: about
   * 17 minutes over 10 attempts); a 4xx other than 408/429 is not retried.
   */
  notify: {
    queue: QUEUE_NAMES.notifications,
    name: JOB_NAMES.notify,
    schema: notifyJobSchema,
    jobId: (p: NotifyJob) => jobIds.notify(p.eventId, p.notificationId),
    options: (): JobsOptions => ({ ...KEEP, attempts: 10, backoff: { type: 'exponential', delay: 2000 } }),
  } satisfies JobDefinition<NotifyJob>,
  /** The periodic sweep (a job scheduler of the maintenance queue). */
  sweep: {
    queue: QUEUE_NAMES.maintenance,
    name: JOB_NAMES.sweepOutbox,
    schema: sweepOutboxJobSchema,
    jobId: () => 'sweep',
    options: (): JobsOptions => ({ removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } }),
  } satisfies JobDefinition<SweepOutboxJob>,
} as const;

/** A job as `queue.add` / `addBulk` takes it: validated payload, stable id, the definition's options. */
export function jobRequest<P>(definition: JobDefinition<P>, payload: P, settings: JobSettings, extra: { delay?: number } = {}): { name: string; data: P; opts: JobsOptions } {
  const data = definition.schema.parse(payload);
  return { name: definition.name, data, opts: { ...definition.options(settings), jobId: definition.jobId(data), ...extra } };
}

/** Adds one job of `definition` to its queue (which must be the definition's). */
export async function addJob<P>(queue: Queue, definition: JobDefinition<P>, payload: P, settings: JobSettings, extra: { delay?: number } = {}): Promise<void> {
  if (queue.name !== definition.queue) throw new Error(`job ${definition.name} belongs to queue ${definition.queue}, not ${queue.name}`);
  const job = jobRequest(definition, payload, settings, extra);
  await queue.add(job.name, job.data, job.opts);
}

/** Adds several jobs of `definition` in one round trip (all or none). */
export async function addJobs<P>(queue: Queue, definition: JobDefinition<P>, payloads: readonly P[], settings: JobSettings): Promise<void> {
  if (payloads.length === 0) return;
  if (queue.name !== definition.queue) throw new Error(`job ${definition.name} belongs to queue ${definition.queue}, not ${queue.name}`);
  await queue.addBulk(payloads.map((p) => jobRequest(definition, p, settings)));
}

/**
 * Adds the job unless a live one exists under its id; a finished one (whose work is evidently not
 * done, since the store says so) is replaced. For the sweeper and replays.
 *
 * Not BullMQ's `deduplication` option: BullMQ checks the job id before the deduplication key, so a
 * kept finished job under the stable id would still block the add, and dropping the stable id would
 * break `addJob`'s promise that a job id is added once (a finished delivery is not run again) and
 * let a live job added by `addJob` (which sets no deduplication key) run twice.
 */
export async function ensureJob<P>(queue: Queue, definition: JobDefinition<P>, payload: P, settings: JobSettings): Promise<boolean> {
  const job = jobRequest(definition, payload, settings);
  const existing = await queue.getJob(job.opts.jobId as string);
  if (existing) {
    const state = await existing.getState();
    if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return false;
    await existing.remove().catch(() => undefined);
  }
  await queue.add(job.name, job.data, job.opts);
  return true;
}
