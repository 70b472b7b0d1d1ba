import { Result } from '@sapphire/result';
import type { JobSettings } from '@music/queue';
import type { SyncMetrics } from '../../engine/sync-metrics';
import { deliverChange, type DeliverDeps, type DeliverOutcome } from '../deliver-change';
import type { GaveUpNotice } from '../gave-up-notice';

export interface DeliverChangeDeps {
  deliver: DeliverDeps;
  jobSettings: JobSettings;
  gaveUp: GaveUpNotice;
  metrics: SyncMetrics | null;
}

export interface DeliverChangeCommand {
  deliveryId: string;
  /** Attempts so far, this one included (a fan-out's first attempt counts). */
  attemptNumber: number;
  /** A transient failure now dead-letters the delivery (default: DELIVERY_ATTEMPTS reached). */
  lastAttempt?: boolean;
}

/** Sent, settled without a send, or waiting its turn. */
export type DeliverSettled = Extract<DeliverOutcome, { kind: 'done' | 'wait' }>;
/** A transient failure (`retry`) or one the delivery gave up on (`failed`: its notifications are queued). */
export type DeliverFailure = Extract<DeliverOutcome, { kind: 'retry' | 'failed' }>;

/** One attempt of a delivery (delivery/deliver-change.ts), counted in the metrics. */
export class DeliverChangeUseCase {
  constructor(private readonly deps: DeliverChangeDeps) {}

  async execute(command: DeliverChangeCommand): Promise<Result<DeliverSettled, DeliverFailure>> {
    const { deliveryId, attemptNumber } = command;
    const lastAttempt = command.lastAttempt ?? attemptNumber >= this.deps.jobSettings.deliveryAttempts;
    const outcome = await deliverChange(deliveryId, attemptNumber, lastAttempt, this.deps.deliver);
    this.deps.metrics?.deliveryOutcome(outcome);
    if (outcome.kind === 'failed') await this.deps.gaveUp.send(deliveryId);
    return outcome.kind === 'retry' || outcome.kind === 'failed' ? Result.err(outcome) : Result.ok(outcome);
  }
}
