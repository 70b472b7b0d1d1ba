import type { Queue } from 'bullmq';
import type { InventoryItem } from '@music/domain';
import { withinDeadline, type Logger } from '@music/platform';
import { addJob, JOBS, type FanoutJob, type JobSettings } from '@music/queue';

/** How long a request waits for Redis to take the job before answering anyway. */
const DEFAULT_ENQUEUE_TIMEOUT_MS = 2000;

/**
 * Hands a stored outbox event to the integration app's fanout worker. The event is already on the
 * item, so an enqueue that fails is only a delay: the outbox sweeper re-enqueues events older than
 * a few seconds, and the job id (`jobIds.fanout(eventId)`) makes both enqueues one job. The job's
 * retries are its definition's (`JOBS.fanout`), the same as the sweeper's.
 */
export class FanoutPublisher {
  constructor(
    private readonly queue: Queue<FanoutJob>,
    private readonly logger: Logger,
    private readonly timeoutMs = DEFAULT_ENQUEUE_TIMEOUT_MS,
  ) {}

  /** Enqueues the item's pending event; true when Redis took it. Never throws. */
  async publish(item: InventoryItem): Promise<boolean> {
    const event = item.pendingEvent;
    if (!event) return false;
    const job: FanoutJob = {
      version: 1,
      organizationId: item.organizationId,
      itemId: item.id,
      eventId: event.id,
      externalId: item.externalId,
      ...(event.requestId ? { requestId: event.requestId } : {}),
    };
    // The fan-out's options do not depend on the deployment's retry settings.
    const added = addJob(this.queue as Queue, JOBS.fanout, job, {} as JobSettings);
    // A queue that is still waiting for Redis would hold the request; the late result is dropped.
    added.catch(() => undefined);
    try {
      await withinDeadline(added, this.timeoutMs, 'fanout enqueue');
      return true;
    } catch (error) {
      this.logger.warn('fanout enqueue failed; the outbox sweeper will deliver the event', {
        orgId: item.organizationId,
        itemId: item.id,
        eventId: event.id,
        err: (error as Error).message,
      });
      return false;
    }
  }
}
