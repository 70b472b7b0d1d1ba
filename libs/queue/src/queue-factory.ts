import { Queue, type ConnectionOptions } from 'bullmq';
import type { QueueName } from './queue-names';

export interface QueueSettings {
  connection: ConnectionOptions;
  /** BullMQ key prefix. For Redis Cluster wrap it in a hash tag, e.g. `{music}`. */
  prefix: string;
}

/**
 * The one way a queue is opened, so producers and consumers agree on prefix. Job options come from
 * each job's definition (`JOBS`, added with `addJob`), never from queue defaults: a producer that
 * opened the queue elsewhere gets the same retries.
 */
export function openQueue<T = unknown>(name: QueueName, settings: QueueSettings): Queue<T> {
  return new Queue<T>(name, { connection: settings.connection, prefix: settings.prefix });
}
