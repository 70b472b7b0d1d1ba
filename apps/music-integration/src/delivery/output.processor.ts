import type { Job } from 'bullmq';
import { JOB_NAMES, deliverJobSchema, fanoutJobSchema } from '@music/queue';
import { withContext } from '@music/platform';
import { complete, inSlot, waitFor, type JobOutcome } from '../engine/job-outcome';
import type { OrganizationSlots } from '../engine/organization-slots';
import type { DeliverChangeUseCase } from './use-cases/deliver-change.use-case';
import type { FanOutChangeUseCase } from './use-cases/fan-out-change.use-case';

export interface OutputProcessorDeps {
  slots: Pick<OrganizationSlots, 'acquire'>;
  fanOutChange: Pick<FanOutChangeUseCase, 'execute'>;
  deliverChange: Pick<DeliverChangeUseCase, 'execute'>;
}

/** The record and request a fan-out or deliver job carries, as log context (absent fields left out). */
function traceOf(data: { externalId?: string | undefined; requestId?: string | undefined }): { externalId?: string; requestId?: string } {
  return { ...(data.externalId ? { externalId: data.externalId } : {}), ...(data.requestId ? { requestId: data.requestId } : {}) };
}

/** The `output` queue: a `fanout` job (one delivery per output webhook) or a `deliver` job (one send), within the organization's delivery slots. */
export async function processOutput(job: Job, deps: OutputProcessorDeps): Promise<JobOutcome> {
  if (job.name === JOB_NAMES.fanout) {
    const data = fanoutJobSchema.parse(job.data);
    return inSlot(deps.slots, 'deliver', data.organizationId, job, () => withContext({ orgId: data.organizationId, jobId: job.id, ...traceOf(data) }, async () => complete(await deps.fanOutChange.execute(data))));
  }
  const data = deliverJobSchema.parse(job.data);
  return inSlot(deps.slots, 'deliver', data.organizationId, job, () =>
    withContext({ orgId: data.organizationId, jobId: job.id, deliveryId: data.deliveryId, ...traceOf(data) }, async (): Promise<JobOutcome> => {
      // The fan-out may have made the first attempt: it counts toward DELIVERY_ATTEMPTS.
      const attemptNumber = (data.priorAttempts ?? 0) + job.attemptsMade + 1;
      const result = await deps.deliverChange.execute({ deliveryId: data.deliveryId, attemptNumber, lastAttempt: attemptNumber >= (job.opts.attempts ?? 1) });
      if (result.isErr()) {
        const failure = result.unwrapErr();
        if (failure.kind === 'failed') return { kind: 'fail', message: failure.message };
        return { kind: 'retry', message: failure.message, ...(failure.retryAfterMs !== undefined ? { retryAfterMs: failure.retryAfterMs } : {}) };
      }
      const outcome = result.unwrap();
      switch (outcome.kind) {
        case 'done':
          return complete(outcome.status);
        case 'wait':
          // Not an attempt: another send of the same item is in flight (or the organization is paused).
          return waitFor(outcome.delayMs ?? 50 + Math.floor(Math.random() * 150));
      }
    }),
  );
}
