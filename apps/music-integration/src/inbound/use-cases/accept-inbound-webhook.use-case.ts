import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { Result } from '@sapphire/result';
import type { Organization, Webhook } from '@music/domain';
import type { OrganizationRepository } from '@music/persistence';
import { addJob, JOBS, type InboundWebhookJob, type JobSettings } from '@music/queue';
import type { InboundInbox } from '@music/sync-state';
import { addToContext, AppError, withinDeadline, type Logger } from '@music/platform';
import { authenticateInboundCall, type InboundCall } from '../inbound-webhook-auth';

const ENQUEUE_TIMEOUT_MS = 2000;

export interface AcceptInboundWebhookDeps {
  organizations: OrganizationRepository;
  /** Stores each accepted call before it is answered (the one writer of `inbound_messages`). */
  inbox: InboundInbox;
  inboundQueue: Queue;
  jobSettings: JobSettings;
  /** INBOUND_MAX_RECORDS. */
  maxRecords: number;
  /** Accept calls with neither signature nor token (outside production only; each one is logged). */
  acceptUnauthenticated: boolean;
  logger: Logger;
}

/** One call of `POST|PUT|DELETE /sync?orgId=ID`, as it arrived. */
export interface AcceptInboundWebhookCommand {
  organizationId: string;
  method: InboundWebhookJob['method'];
  /** The body's exact bytes (what the signature covers); undefined when there was none. */
  rawBody: Buffer | undefined;
  /** The body as parsed JSON; undefined when there was none. */
  body: unknown;
  headers: InboundCall['headers'];
  /** The webhook's token, for third parties that cannot sign (from the call URL). */
  token: string | undefined;
}

/** What `/sync` answers 202 with. */
export interface InboundWebhookAccepted {
  accepted: number;
  messageId: string;
  duplicate: boolean;
}

/**
 * The third party tells us what changed. The call is checked (organization, a matching input
 * webhook, its signature or token: inbound-webhook-auth.ts), stored, queued, and answered; the
 * inbound worker applies it. Stored first: an accepted call survives a Redis restart (the sweeper
 * queues stored calls not yet applied), and a repeated `webhook-id` of the same organization is
 * recognised by the store for INBOUND_DEDUPE_RETENTION_MS.
 */
export class AcceptInboundWebhookUseCase {
  constructor(private readonly deps: AcceptInboundWebhookDeps) {}

  async execute(command: AcceptInboundWebhookCommand): Promise<Result<InboundWebhookAccepted, AppError>> {
    const { deps } = this;
    const { method, rawBody: raw, body: parsed } = command;
    const org = await deps.organizations.findById(command.organizationId);
    const hooks = org ? inputWebhooks(org, method) : [];
    // An unknown organization and one without this input webhook look the same from outside.
    if (!org || hooks.length === 0) return Result.err(new AppError('NOT_FOUND', `No ${method} input webhook for this organization`));
    addToContext({ orgId: org.id });

    if (!raw || raw.length === 0 || parsed === undefined) {
      return Result.err(new AppError('VALIDATION_FAILED', 'Body must be a JSON record or an array of records', [{ path: '(body)', message: 'required' }]));
    }
    const authenticated = authenticateInboundCall(hooks, { rawBody: raw, headers: command.headers, token: command.token }, { acceptUnauthenticated: deps.acceptUnauthenticated });
    if (authenticated.isErr()) return Result.err(authenticated.unwrapErr());
    if (authenticated.unwrap().via === 'none') {
      deps.logger.warn('input webhook call accepted without a signature or token (INBOUND_WEBHOOK_UNAUTHENTICATED=accept: development only)', { method });
    }
    const records = Array.isArray(parsed) ? parsed.length : 1;
    if (typeof parsed !== 'object' || parsed === null) {
      return Result.err(new AppError('VALIDATION_FAILED', 'Body must be a JSON record or an array of records', [{ path: '(body)', message: 'expected object or array' }]));
    }
    if (records > deps.maxRecords) return Result.err(new AppError('PAYLOAD_TOO_LARGE', `At most ${deps.maxRecords} records per call`));

    const messageId = command.headers.id?.slice(0, 256) || randomUUID();
    const body = raw.toString('utf8');
    let stored: Awaited<ReturnType<InboundInbox['accept']>>;
    try {
      stored = await deps.inbox.accept(org.id, messageId, method, body);
    } catch (error) {
      deps.logger.error('could not store inbound webhook', { err: (error as Error).message });
      return Result.err(new AppError('SERVICE_UNAVAILABLE', 'Could not accept the webhook right now; retry later'));
    }
    if (!stored.duplicate) await this.enqueue({ version: 1, organizationId: org.id, method, body, messageId, storedId: stored.id, acceptedAt: stored.acceptedAt.toISOString() });
    return Result.ok({ accepted: records, messageId, duplicate: stored.duplicate });
  }

  /** Queues a stored call; when Redis cannot take it now, the sweeper queues it later (it is stored). */
  private async enqueue(job: InboundWebhookJob): Promise<void> {
    try {
      const added = addJob(this.deps.inboundQueue, JOBS.inboundWebhook, job, this.deps.jobSettings);
      // A queue waiting for Redis would hold the answer; the late result is dropped.
      added.catch(() => undefined);
      await withinDeadline(added, ENQUEUE_TIMEOUT_MS, 'inbound enqueue');
    } catch (error) {
      this.deps.logger.warn('inbound webhook stored but not queued; the sweeper queues it', { messageId: job.messageId, err: (error as Error).message });
    }
  }
}

function inputWebhooks(org: Organization, method: string): Webhook[] {
  return org.webhooks.filter((w) => w.type === 'input' && w.method === method);
}
