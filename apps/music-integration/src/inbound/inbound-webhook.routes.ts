import { Router, type Request } from 'express';
import { Result } from '@sapphire/result';
import { z } from 'zod';
import type { InboundWebhookJob } from '@music/queue';
import { parseInput, sendResult, type AppError } from '@music/platform';
import type { AcceptInboundWebhookUseCase, InboundWebhookAccepted } from './use-cases/accept-inbound-webhook.use-case';

export const inboundWebhookQuerySchema = z.object({
  orgId: z.string().trim().min(1, 'orgId is required').max(128),
  /** The webhook's token, for third parties that cannot sign (from the call URL the create answer gave). */
  token: z.string().max(256).optional(),
});

/**
 * `POST|PUT|DELETE /sync?orgId=ID`: the third party tells us what changed; the call is stored,
 * queued and answered 202 (`AcceptInboundWebhookUseCase`), and the inbound worker applies it.
 */
export function inboundWebhookRoutes(use: { acceptInboundWebhook: AcceptInboundWebhookUseCase }): Router {
  const router = Router();
  const accept = async (req: Request): Promise<Result<InboundWebhookAccepted, AppError>> => {
    const query = parseInput(inboundWebhookQuerySchema, req.query, 'Query');
    if (query.isErr()) return Result.err(query.unwrapErr());
    return use.acceptInboundWebhook.execute({
      organizationId: query.unwrap().orgId,
      token: query.unwrap().token,
      method: req.method as InboundWebhookJob['method'],
      rawBody: req.rawBody,
      body: req.body,
      headers: { id: req.header('webhook-id'), timestamp: req.header('webhook-timestamp'), signature: req.header('webhook-signature') },
    });
  };
  router.post('/sync', (req, res) => void accept(req).then((r) => sendResult(res, r, 202)));
  router.put('/sync', (req, res) => void accept(req).then((r) => sendResult(res, r, 202)));
  router.delete('/sync', (req, res) => void accept(req).then((r) => sendResult(res, r, 202)));
  return router;
}
