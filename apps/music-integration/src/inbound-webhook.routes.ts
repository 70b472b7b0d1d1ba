import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import type { Queue } from 'bullmq';
import { Result } from '@sapphire/result';
import { z } from 'zod';
import type { Organization, Webhook } from '@music/domain';
import type { OrganizationRepository } from '@music/persistence';
import { JOB_NAMES, jobIds, type InboundWebhookJob } from '@music/queue';
import { addToContext, AppError, parseInput, sendResult, webhookSigner, type Logger } from '@music/platform';

export const inboundWebhookQuerySchema = z.object({ orgId: z.string().trim().min(1, 'orgId is required').max(128) });

export interface InboundWebhookRouteDeps {
  organizations: OrganizationRepository;
  inboundQueue: Queue;
  maxRecords: number;
  logger: Logger;
}

interface Accepted {
  accepted: number;
  messageId: string;
  duplicate: boolean;
}

/**
 * `POST|PUT|DELETE /sync?orgId=ID`: the third party tells us what changed. The call is checked
 * (organization, a matching input webhook, its signature when it has a secret), queued, and
 * answered 202; the inbound worker applies it. A repeated `webhook-id` is queued once.
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
  const secured = hooks.filter((h) => h.secret);
  if (secured.length > 0 && !secured.some((h) => verifies(h.secret as string, raw, req))) {
    return Result.err(new AppError('UNAUTHORIZED', 'Missing or invalid webhook signature'));
  }
  const records = Array.isArray(req.body) ? req.body.length : 1;
  if (typeof req.body !== 'object' || req.body === null) {
    return Result.err(new AppError('VALIDATION_FAILED', 'Body must be a JSON record or an array of records', [{ path: '(body)', message: 'expected object or array' }]));
  }
  if (records > deps.maxRecords) return Result.err(new AppError('PAYLOAD_TOO_LARGE', `At most ${deps.maxRecords} records per call`));

  const messageId = req.header('webhook-id')?.slice(0, 256) || randomUUID();
  const jobId = jobIds.inbound(org.id, messageId);
  const data: InboundWebhookJob = { version: 1, organizationId: org.id, method, body: raw.toString('utf8'), messageId, receivedAt: new Date().toISOString() };
  try {
    const duplicate = (await deps.inboundQueue.getJob(jobId)) !== undefined;
    if (!duplicate) await deps.inboundQueue.add(JOB_NAMES.inboundWebhook, data, { jobId, attempts: 5, backoff: { type: 'exponential', delay: 1000 } });
    return Result.ok({ accepted: records, messageId, duplicate });
  } catch (error) {
    deps.logger.error('could not queue inbound webhook', { err: (error as Error).message });
    return Result.err(new AppError('SERVICE_UNAVAILABLE', 'Could not accept the webhook right now; retry later'));
  }
}

function inputWebhooks(org: Organization, method: string): Webhook[] {
  return org.webhooks.filter((w) => w.type === 'input' && w.method === method);
}

function verifies(secret: string, raw: Buffer, req: Request): boolean {
  try {
    webhookSigner(secret).verify(raw, {
      'webhook-id': req.header('webhook-id') ?? '',
      'webhook-timestamp': req.header('webhook-timestamp') ?? '',
      'webhook-signature': req.header('webhook-signature') ?? '',
    });
    return true;
  } catch {
    return false;
  }
}
