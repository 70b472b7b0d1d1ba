import type { Queue } from 'bullmq';

/** The queues music-integration works from (org-events is music-config's, opened here to be seen: Bull Board, queue metrics). */
export type IntegrationQueues = {
  polling: Queue;
  output: Queue;
  inbound: Queue;
  maintenance: Queue;
  notifications: Queue;
  orgEvents: Queue;
};
