import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { OrganizationSlots, SlotKind } from './organization-slots';

/**
 * How a job ends, as a processor decides it from its use case's outcome: `complete` (with the job's
 * return value), `retry` (a transient failure: another attempt after the queue's backoff; Retry-After
 * when the third party gave one), `fail` (for good, no further attempt), or `wait` (moved back to
 * the delayed set until `untilMs` without counting as an attempt).
 */
export type JobOutcome =
  | { kind: 'complete'; value: unknown }
  | { kind: 'retry'; message: string; retryAfterMs?: number }
  | { kind: 'fail'; message: string }
  | { kind: 'wait'; untilMs: number };

export const complete = (value: unknown): JobOutcome => ({ kind: 'complete', value });
export const waitFor = (ms: number): JobOutcome => ({ kind: 'wait', untilMs: Date.now() + ms });

/** A transient failure; carries the third party's Retry-After when it gave one (the output queue's backoff reads it). */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** The one place a job's outcome becomes what BullMQ expects of a processor: a value, or the error that retries, fails or delays it. */
export async function settleJob(job: Job, token: string | undefined, outcome: JobOutcome): Promise<unknown> {
  switch (outcome.kind) {
    case 'complete':
      return outcome.value;
    case 'retry':
      throw new RetryLater(outcome.message, outcome.retryAfterMs);
    case 'fail':
      throw new UnrecoverableError(outcome.message);
    case 'wait':
      await job.moveToDelayed(outcome.untilMs, token);
      throw new DelayedError();
    default: {
      const unreachable: never = outcome;
      throw new Error(`unknown outcome ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * Runs `work` holding one of the organization's slots of this kind; past its cap the job waits its
 * turn (delayed, not an attempt) and the worker takes the next job.
 */
export async function inSlot(slots: Pick<OrganizationSlots, 'acquire'>, kind: SlotKind, organizationId: string, job: Job, work: () => Promise<JobOutcome>): Promise<JobOutcome> {
  const slot = await slots.acquire(kind, organizationId, job.id ?? job.name);
  if (!slot.taken) return waitFor(slot.waitMs);
  try {
    return await work();
  } finally {
    await slot.release();
  }
}
