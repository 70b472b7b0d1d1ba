import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { Result } from '@sapphire/result';
import { emptyCounts } from '@music/domain';
import { processNotify } from '../controls/notifications.processor';
import type { NotifyFailure, NotifyOutcome } from '../controls/use-cases/send-notification.use-case';
import { processOutput } from '../delivery/output.processor';
import type { DeliverChangeCommand, DeliverFailure, DeliverSettled } from '../delivery/use-cases/deliver-change.use-case';
import type { FanoutResult } from '../delivery/use-cases/fan-out-change.use-case';
import { processInbound } from '../inbound/inbound.processor';
import type { InboundDeferred, InboundWebhookSummary } from '../inbound/use-cases/apply-inbound-webhook.use-case';
import { processPoll } from '../polling/poll.processor';
import type { PollRetry, RunPollCommand, RunPollOutcome } from '../polling/use-cases/run-poll.use-case';
import { RetryLater, settleJob, type JobOutcome } from './job-outcome';
import type { Slot } from './organization-slots';

// What each queue's job does next, as BullMQ sees it, from what its use case answered: the retry
// rules of docs/sync-model.md ("Delivery", notifications, polling, pause) and the per-organization
// slots (a job past its organization's cap waits its turn without holding a worker). Use cases are
// stubs: only the processors' decisions are under test.

interface FakeJob {
  job: Job;
  /** Timestamps the job was moved back to the delayed set until. */
  delayedUntil: number[];
  updates: unknown[];
}

function fakeJob(name: string, data: Record<string, unknown>, options: { attemptsMade?: number; attempts?: number } = {}): FakeJob {
  const delayedUntil: number[] = [];
  const updates: unknown[] = [];
  const job = {
    id: `${name}-1`,
    name,
    data,
    attemptsMade: options.attemptsMade ?? 0,
    opts: { attempts: options.attempts ?? 1 },
    moveToDelayed: async (timestamp: number) => {
      delayedUntil.push(timestamp);
    },
    updateData: async (next: unknown) => {
      updates.push(next);
    },
  };
  return { job: job as unknown as Job, delayedUntil, updates };
}

const freeSlots = { acquire: async (): Promise<Slot> => ({ taken: true, release: async () => undefined }) };
const fullSlots = (waitMs: number) => ({ acquire: async (): Promise<Slot> => ({ taken: false, waitMs }) });

/** What the worker does with the outcome: the job's value, or the error BullMQ acts on. */
async function settle(fake: FakeJob, outcome: JobOutcome): Promise<{ value?: unknown; error?: unknown }> {
  try {
    return { value: await settleJob(fake.job, 'token', outcome) };
  } catch (error) {
    return { error };
  }
}

describe('processors: a use case outcome becomes what the job does next', () => {
  describe('inbound-webhook', () => {
    const data = { version: 1, organizationId: 'org-1', method: 'POST', body: '[]', messageId: 'm1', storedId: 's1', acceptedAt: new Date().toISOString() };
    const summary: InboundWebhookSummary = { received: 2, created: 2, updated: 0, unchanged: 0, deleted: 0, absent: 0, invalid: 0, conflicts: 0, diverged: 0, stale: 0 };

    it('completes with the summary once every record is applied', async () => {
      const fake = fakeJob('inbound-webhook', data);
      const outcome = await processInbound(fake.job, { applyInbound: { execute: async () => Result.ok(summary) } });
      expect(outcome).toEqual({ kind: 'complete', value: summary });
      expect(await settle(fake, outcome)).toEqual({ value: summary });
    });

    it('retries when records were deferred by concurrent writes (applying the call again changes nothing), never failing it for good', async () => {
      const fake = fakeJob('inbound-webhook', data);
      const deferred: InboundDeferred = { kind: 'retry', message: '1 record(s) deferred by concurrent writes; retrying' };
      const outcome = await processInbound(fake.job, { applyInbound: { execute: async () => Result.err(deferred) } });
      expect(outcome).toEqual({ kind: 'retry', message: deferred.message });
      const { error } = await settle(fake, outcome);
      expect(error).toBeInstanceOf(RetryLater);
      expect(error).not.toBeInstanceOf(UnrecoverableError);
    });
  });

  describe('notify', () => {
    const data = { version: 1, organizationId: 'org-1', notificationId: 'n1', eventId: 'evt-1', type: 'sync.failed', occurredAt: new Date().toISOString(), data: {} };
    const notify = (result: Result<NotifyOutcome, NotifyFailure>) => ({ sendNotification: { execute: async () => result } });

    it('completes when sent, and when there is nothing to send', async () => {
      for (const answer of [{ kind: 'sent', status: 204 }, { kind: 'skipped', reason: 'the notification webhook was removed' }] as const) {
        const outcome = await processNotify(fakeJob('notify', data).job, notify(Result.ok(answer)));
        expect(outcome).toEqual({ kind: 'complete', value: answer });
      }
    });

    it('retries 408, 429, 5xx and network errors', async () => {
      const fake = fakeJob('notify', data);
      const outcome = await processNotify(fake.job, notify(Result.err({ kind: 'retry', message: 'HTTP 503' })));
      expect(outcome).toEqual({ kind: 'retry', message: 'HTTP 503' });
      expect((await settle(fake, outcome)).error).toBeInstanceOf(RetryLater);
    });

    it('does not retry other answers or a refused address: the job fails for good', async () => {
      const fake = fakeJob('notify', data);
      const outcome = await processNotify(fake.job, notify(Result.err({ kind: 'failed', message: 'HTTP 400' })));
      expect(outcome).toEqual({ kind: 'fail', message: 'HTTP 400' });
      const { error } = await settle(fake, outcome);
      expect(error).toBeInstanceOf(UnrecoverableError);
      expect((error as Error).message).toBe('HTTP 400');
    });
  });

  describe('output: deliver', () => {
    const data = { version: 1, organizationId: 'org-1', deliveryId: 'dlv-1' };
    function deliver(result: Result<DeliverSettled, DeliverFailure>) {
      const commands: DeliverChangeCommand[] = [];
      const deps = {
        slots: freeSlots,
        fanOutChange: { execute: async (): Promise<FanoutResult> => 'fanned-out' },
        deliverChange: {
          execute: async (command: DeliverChangeCommand) => {
            commands.push(command);
            return result;
          },
        },
      };
      return { deps, commands };
    }

    it('completes with the delivery status when it was sent or settled without a send', async () => {
      const fake = fakeJob('deliver', data);
      const outcome = await processOutput(fake.job, deliver(Result.ok({ kind: 'done', status: 'succeeded', latencyMs: 12 })).deps);
      expect(outcome).toEqual({ kind: 'complete', value: 'succeeded' });
      expect(await settle(fake, outcome)).toEqual({ value: 'succeeded' });
    });

    it("retries a transient failure, carrying a 429's Retry-After to the queue's backoff", async () => {
      const fake = fakeJob('deliver', data, { attempts: 10 });
      const outcome = await processOutput(fake.job, deliver(Result.err({ kind: 'retry', message: 'HTTP 429', retryAfterMs: 120_000 })).deps);
      expect(outcome).toEqual({ kind: 'retry', message: 'HTTP 429', retryAfterMs: 120_000 });
      const { error } = await settle(fake, outcome);
      expect(error).toBeInstanceOf(RetryLater);
      expect((error as RetryLater).retryAfterMs).toBe(120_000);
    });

    it('retries without a Retry-After when the third party gave none', async () => {
      const outcome = await processOutput(fakeJob('deliver', data, { attempts: 10 }).job, deliver(Result.err({ kind: 'retry', message: 'HTTP 503' })).deps);
      expect(outcome).toEqual({ kind: 'retry', message: 'HTTP 503' });
    });

    it('fails the job for good when the delivery gave up (a permanent refusal, or its attempts ran out)', async () => {
      for (const deadLettered of [false, true]) {
        const fake = fakeJob('deliver', data);
        const outcome = await processOutput(fake.job, deliver(Result.err({ kind: 'failed', message: 'HTTP 400', deadLettered })).deps);
        expect(outcome).toEqual({ kind: 'fail', message: 'HTTP 400' });
        expect((await settle(fake, outcome)).error).toBeInstanceOf(UnrecoverableError);
      }
    });

    it('waits, without using an attempt, while another send of the item is in flight or the organization is paused', async () => {
      const fake = fakeJob('deliver', data, { attempts: 10 });
      const before = Date.now();
      const outcome = await processOutput(fake.job, deliver(Result.ok({ kind: 'wait', delayMs: 30_000 })).deps);
      expect(outcome.kind).toBe('wait');
      const { error } = await settle(fake, outcome);
      // DelayedError: BullMQ moves the job back without counting an attempt.
      expect(error).toBeInstanceOf(DelayedError);
      expect(fake.delayedUntil).toHaveLength(1);
      expect(fake.delayedUntil[0]).toBeGreaterThanOrEqual(before + 30_000);
      expect(fake.delayedUntil[0]).toBeLessThan(before + 31_000);
    });

    it("counts the fan-out's first attempt toward DELIVERY_ATTEMPTS: the last one is the attempt that reaches it", async () => {
      // Fan-out made attempt 1; this job's own attempts are 2 onward.
      const early = deliver(Result.err({ kind: 'retry', message: 'HTTP 503' }));
      await processOutput(fakeJob('deliver', { ...data, priorAttempts: 1 }, { attemptsMade: 0, attempts: 10 }).job, early.deps);
      expect(early.commands).toEqual([{ deliveryId: 'dlv-1', attemptNumber: 2, lastAttempt: false }]);

      const last = deliver(Result.err({ kind: 'retry', message: 'HTTP 503' }));
      await processOutput(fakeJob('deliver', { ...data, priorAttempts: 1 }, { attemptsMade: 8, attempts: 9 }).job, last.deps);
      expect(last.commands).toEqual([{ deliveryId: 'dlv-1', attemptNumber: 10, lastAttempt: true }]);
    });

    it("waits its turn past the organization's cap of deliveries in flight, before anything is sent", async () => {
      const fake = fakeJob('deliver', data);
      const { deps, commands } = deliver(Result.ok({ kind: 'done', status: 'succeeded' }));
      const before = Date.now();
      const outcome = await processOutput(fake.job, { ...deps, slots: fullSlots(5_000) });
      expect(commands).toEqual([]);
      expect(outcome.kind).toBe('wait');
      expect((await settle(fake, outcome)).error).toBeInstanceOf(DelayedError);
      expect(fake.delayedUntil[0]).toBeGreaterThanOrEqual(before + 5_000);
    });
  });

  describe('output: fanout', () => {
    it("always completes with what the fan-out did (a failure of its first attempt is the delivery's, retried by its deliver job)", async () => {
      const data = { version: 1, organizationId: 'org-1', itemId: 'item-1', eventId: 'evt-1' };
      for (const result of ['fanned-out', 'delivered', 'retrying', 'failed', 'stale', 'nothing-to-deliver'] as const) {
        const fake = fakeJob('fanout', data);
        const outcome = await processOutput(fake.job, {
          slots: freeSlots,
          fanOutChange: { execute: async () => result },
          deliverChange: { execute: async () => Result.ok({ kind: 'done', status: 'skipped' } as const) },
        });
        expect(outcome).toEqual({ kind: 'complete', value: result });
        expect(await settle(fake, outcome)).toEqual({ value: result });
      }
    });
  });

  describe('poll', () => {
    const data = { version: 1, organizationId: 'org-1', pollingId: 'e1', trigger: 'manual', runId: 'run-1' };
    function poll(result: Result<RunPollOutcome, PollRetry>) {
      const removed: string[] = [];
      const commands: RunPollCommand[] = [];
      const deps = {
        slots: freeSlots,
        schedules: {
          remove: async (organizationId: string, pollingId: string) => {
            removed.push(`${organizationId}/${pollingId}`);
          },
        },
        runPoll: {
          execute: async (command: RunPollCommand) => {
            commands.push(command);
            return result;
          },
        },
      };
      return { deps, removed, commands };
    }

    it("completes with the run when it ended (its failures are the run's status, not the job's)", async () => {
      const counts = { ...emptyCounts(), fetched: 1, created: 1 };
      const fake = fakeJob('poll', data);
      const outcome = await processPoll(fake.job, poll(Result.ok({ kind: 'done', runId: 'run-1', status: 'failed', counts })).deps);
      expect(outcome).toEqual({ kind: 'complete', value: { runId: 'run-1', status: 'failed', counts } });
    });

    it('retries a transient failure, telling the run whether this was its last attempt', async () => {
      const early = poll(Result.err({ kind: 'retry', runId: 'run-1', message: 'HTTP 503' }));
      const fake = fakeJob('poll', data, { attemptsMade: 0, attempts: 3 });
      const outcome = await processPoll(fake.job, early.deps);
      expect(outcome).toEqual({ kind: 'retry', message: 'HTTP 503' });
      expect((await settle(fake, outcome)).error).toBeInstanceOf(RetryLater);
      expect(early.commands[0]?.lastAttempt).toBe(false);

      const last = poll(Result.err({ kind: 'retry', runId: 'run-1', message: 'HTTP 503' }));
      await processPoll(fakeJob('poll', data, { attemptsMade: 2, attempts: 3 }).job, last.deps);
      expect(last.commands[0]?.lastAttempt).toBe(true);
    });

    it('completes without running while paused', async () => {
      const outcome = await processPoll(fakeJob('poll', data).job, poll(Result.ok({ kind: 'paused' })).deps);
      expect(outcome).toEqual({ kind: 'complete', value: { paused: true } });
    });

    it('removes the schedule of an entry that no longer exists, and completes', async () => {
      const { deps, removed } = poll(Result.ok({ kind: 'stale' }));
      const outcome = await processPoll(fakeJob('poll', data).job, deps);
      expect(outcome).toEqual({ kind: 'complete', value: { stale: true } });
      expect(removed).toEqual(['org-1/e1']);
    });

    it('makes a manual run wait for the run in progress rather than skipping it', async () => {
      const fake = fakeJob('poll', data);
      const outcome = await processPoll(fake.job, poll(Result.ok({ kind: 'busy', runId: 'run-1' })).deps);
      expect(outcome.kind).toBe('wait');
      expect((await settle(fake, outcome)).error).toBeInstanceOf(DelayedError);
      expect(fake.delayedUntil).toHaveLength(1);
    });

    it("waits its turn past the organization's cap of polls in flight, without running", async () => {
      const { deps, commands } = poll(Result.ok({ kind: 'paused' }));
      const outcome = await processPoll(fakeJob('poll', data).job, { ...deps, slots: fullSlots(2_000) });
      expect(outcome.kind).toBe('wait');
      expect(commands).toEqual([]);
    });
  });
});
