import type { Express, Request, Response } from 'express';
import { Result } from '@sapphire/result';
import { z } from 'zod';
import { notFound, parseInput, sendResult } from '@music/platform';
import type { FakerState, WebhookConfig } from './faker-state';
import { faultGate } from './faults.routes';
import { encodeCursor, parseMusicPage } from './pagination';
import type { WebhookCaller } from './webhook-caller';

export const generateSchema = z.object({ count: z.number().int().min(1).max(100) });

const webhookUrl = z.url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' }).max(2048);
export const webhookConfigSchema = z.object({
  create: z.array(webhookUrl).max(20).default([]),
  remove: z.array(webhookUrl).max(20).default([]),
});

const idParam = z.object({ id: z.string().min(1).max(256) });

/** /music/*, and /config (the brief uses both /config and /music/config). */
export function musicRoutes(app: Express, state: FakerState, webhooks: WebhookCaller): void {
  app.post('/music/generate', (req, res) => {
    const result = parseInput(generateSchema, req.body).map(({ count }) => state.generate(count));
    // Answer first; the create webhooks are called in the background.
    sendResult(res, result, 201);
    result.inspect((songs) => webhooks.created(songs));
  });

  app.get('/music', faultGate(state, 'music'), (req, res) => {
    const result = parseMusicPage(req.query).map((page) => {
      switch (page.mode) {
        case 'all':
          return state.list();
        case 'slice':
          return state.list().slice(page.offset, page.offset + page.limit);
        case 'cursor': {
          const { items, lastSeq } = state.itemsAfter(page.afterSeq, page.limit);
          return { items, nextCursor: lastSeq === null ? null : encodeCursor(lastSeq) };
        }
        default: {
          const unreachable: never = page;
          throw new Error(`unknown page mode ${JSON.stringify(unreachable)}`);
        }
      }
    });
    sendResult(res, result);
  });

  const getConfig = (_req: Request, res: Response): void => void res.json(state.webhookConfig);
  const putConfig = (req: Request, res: Response): void => {
    const result = parseInput(webhookConfigSchema, req.body, 'Webhook config').map((config: WebhookConfig) => {
      state.setWebhookConfig(config);
      return state.webhookConfig;
    });
    sendResult(res, result);
  };
  app.get(['/music/config', '/config'], getConfig);
  app.put(['/music/config', '/config'], putConfig);

  app.get('/music/:id', (req, res) => {
    const result = parseInput(idParam, req.params, 'Params').andThen(({ id }) => {
      const item = state.get(id);
      return item ? Result.ok(item) : Result.err(notFound('Song'));
    });
    sendResult(res, result);
  });

  app.delete('/music/:id', (req, res) => {
    const result = parseInput(idParam, req.params, 'Params').andThen(({ id }) => {
      const item = state.remove(id);
      return item ? Result.ok(item) : Result.err(notFound('Song'));
    });
    sendResult(res, result);
    result.inspect((item) => webhooks.removed(item));
  });
}
