import { Queue, type ConnectionOptions, type DefaultJobOptions } from 'bullmq';
import type { QueueName } from './queue-names';

export interface QueueSettings {
  connection: ConnectionOptions;
  /** BullMQ key prefix. For Redis Cluster wrap it in a hash tag, e.g. `{music}`. */
  prefix: string;
}

/** Completed jobs are kept an hour (enough for idempotent re-adds by id); failed ones a week. */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  removeOnComplete: { age: 3600, count: 10000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** The one way a queue is opened, so producers and consumers agree on prefix and defaults. */
export function openQueue<T = unknown>(name: QueueName, settings: QueueSettings, defaults: DefaultJobOptions = {}): Queue<T> {
  return new Queue<T>(name, {
    connection: settings.connection,
    prefix: settings.prefix,
    defaultJobOptions: { ...DEFAULT_JOB_OPTIONS, ...defaults },
  });
}
