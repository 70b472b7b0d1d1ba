import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import type { Queue } from 'bullmq';
import { Result } from '@sapphire/result';
import { z } from 'zod';
import type { Organization, Webhook } from '@music/domain';
import type { OrganizationRepository } from '@music/persistence';
import { addJob, JOBS, type InboundWebhookJob, type JobSettings } from '@music/queue';
import type { InboundInbox } from '@music/sync-state';
import { addToContext, AppError, parseInput, sendResult, withinDeadline, type Logger } from '@music/platform';
import { authenticateInboundCall } from './inbound-webhook-auth';

const ENQUEUE_TIMEOUT_MS = 2000;

export const inboundWebhookQuerySchema = z.object({
  orgId: z.string().trim().min(1, 'orgId is required').max(128),
  /** The webhook's token, for third parties that cannot sign (from the call URL the create answer gave). */
  token: z.string().max(256).optional(),
});

export interface InboundWebhookRouteDeps {
  organizations: OrganizationRepository;
  /** Stores each accepted call before it is answered (the one writer of `inbound_messages`). */
  inbox: InboundInbox;
  inboundQueue: Queue;
  jobSettings: JobSettings;
  maxRecords: number;
  /** Accept calls with neither signature nor token (outside production only; each one is logged). */
  acceptUnauthenticated: boolean;
  logger: Logger;
}

interface Accepted {
  accepted: number;
  messageId: string;
  duplicate: boolean;
}

/**
 * `POST|PUT|DELETE /sync?orgId=ID`: the third party tells us what changed. The call is checked
 * (organization, a matching input webhook, its signature or token: inbound-webhook-auth.ts), stored,
 * queued, and answered 202; the inbound worker applies it. Stored first: a call answered 202
 * survives a Redis restart (the sweeper queues stored calls not yet applied), and a repeated
 * `webhook-id` of the same organization is recognised by the store for INBOUND_DEDUPE_RETENTION_MS.
 */
export function inboundWebhookRoutes(deps: InboundWebhookRouteDeps): Router {
  const router = Router();
  router.post('/sync', (req, res) => void accept(req, deps).then((r) => sendResult(res, r, 202)));
  router.put('/sync', (req, res) => void accept(req, deps).then((r) => sendResult(res, r, 202)));
  router.delete('/sync', (req, res) => void accept(req, deps).then((r) => sendResult(res, r, 202)));
  return router;
}

async function accept(req: Request, deps: InboundWebhookRouteDeps): Promise<Result<Accepted, AppError>> {
  const query = parseInput(inboundWebhookQuerySchema, req.query, 'Query');
  if (query.isErr()) return Result.err(query.unwrapErr());
  const method = req.method as InboundWebhookJob['method'];
  const org = await deps.organizations.findById(query.unwrap().orgId);
  const hooks = org ? inputWebhooks(org, method) : [];
  // An unknown organization and one without this input webhook look the same from outside.
  if (!org || hooks.length === 0) return Result.err(new AppError('NOT_FOUND', `No ${method} input webhook for this organization`));
  addToContext({ orgId: org.id });

  const raw = req.rawBody;
  if (!raw || raw.length === 0 || req.body === undefined) {
    return Result.err(new AppError('VALIDATION_FAILED', 'Body must be a JSON record or an array of records', [{ path: '(body)', message: 'required' }]));
  }
  const authenticated = authenticateInboundCall(
    hooks,
    {
      rawBody: raw,
      headers: { id: req.header('webhook-id'), timestamp: req.header('webhook-timestamp'), signature: req.header('webhook-signature') },
      token: query.unwrap().token,
    },
    { acceptUnauthenticated: deps.acceptUnauthenticated },
  );
  if (authenticated.isErr()) return Result.err(authenticated.unwrapErr());
  if (authenticated.unwrap().via === 'none') {
    deps.logger.warn('input webhook call accepted without a signature or token (INBOUND_WEBHOOK_UNAUTHENTICATED=accept: development only)', { method });
  }
  const records = Array.isArray(req.body) ? req.body.length : 1;
  if (typeof req.body !== 'object' || req.body === null) {
    return Result.err(new AppError('VALIDATION_FAILED', 'Body must be a JSON record or an array of records', [{ path: '(body)', message: 'expected object or array' }]));
  }
  if (records > deps.maxRecords) return Result.err(new AppError('PAYLOAD_TOO_LARGE', `At most ${deps.maxRecords} records per call`));

  const messageId = req.header('webhook-id')?.slice(0, 256) || randomUUID();
  const body = raw.toString('utf8');
  let stored: Awaited<ReturnType<InboundInbox['accept']>>;
  try {
    stored = await deps.inbox.accept(org.id, messageId, method, body);
  } catch (error) {
    deps.logger.error('could not store inbound webhook', { err: (error as Error).message });
    return Result.err(new AppError('SERVICE_UNAVAILABLE', 'Could not accept the webhook right now; retry later'));
  }
  if (!stored.duplicate) await enqueue(deps, { version: 1, organizationId: org.id, method, body, messageId, storedId: stored.id, acceptedAt: stored.acceptedAt.toISOString() });
  return Result.ok({ accepted: records, messageId, duplicate: stored.duplicate });
}

/** Queues a stored call; when Redis cannot take it now, the sweeper queues it later (it is stored). */
async function enqueue(deps: InboundWebhookRouteDeps, job: InboundWebhookJob): Promise<void> {
  try {
    const added = addJob(deps.inboundQueue, JOBS.inboundWebhook, job, deps.jobSettings);
    // A queue waiting for Redis would hold the answer; the late result is dropped.
    added.catch(() => undefined);
    await withinDeadline(added, ENQUEUE_TIMEOUT_MS, 'inbound enqueue');
  } catch (error) {
    deps.logger.warn('inbound webhook stored but not queued; the sweeper queues it', { messageId: job.messageId, err: (error as Error).message });
  }
}

function inputWebhooks(org: Organization, method: string): Webhook[] {
  return org.webhooks.filter((w) => w.type === 'input' && w.method === method);
}
