import type { Request, Response, Router } from 'express';
import { Result } from '@sapphire/result';
import { z } from 'zod';
import { AppError, notFound, parseInput, sendResult } from '@music/platform';
import { MAX_TARGETS_PER_EVENT, type WebhookTarget } from './faker-state';
import { faultGate } from './faults.routes';
import { stateOf } from './namespace-state';
import { encodeCursor, parseMusicPage, updatedSinceFilter } from './pagination';
import type { WebhookCaller } from './webhook-caller';

export const generateSchema = z.object({ count: z.number().int().min(1).max(100) });

const webhookUrl = z.url({ protocol: /^https?$/, message: 'must be an absolute http(s) URL' }).max(2048);
/** A Standard Webhooks secret: `whsec_<base64>`, or any string of 16+ characters (raw key bytes). */
const webhookSecret = z
  .string()
  .min(16)
  .max(256)
  .refine((s) => !s.startsWith('whsec_') || /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(s), 'a whsec_ secret must be whsec_<base64>');
const targetEntry = z.union([webhookUrl, z.object({ url: webhookUrl, secret: webhookSecret.optional() }).strict()]);
export const webhookConfigSchema = z.object({
  create: z.array(targetEntry).max(MAX_TARGETS_PER_EVENT).default([]),
  remove: z.array(targetEntry).max(MAX_TARGETS_PER_EVENT).default([]),
});
export const webhookTargetSchema = z
  .object({
    event: z.enum(['create', 'remove']),
    url: webhookUrl,
    secret: webhookSecret.optional().meta({ description: 'With a secret, the faker signs its calls to this target (Standard Webhooks)' }),
  })
  .strict();

const idParam = z.object({ id: z.string().min(1).max(256) });
const targetIdParam = z.object({ targetId: z.string().min(1).max(64) });

/** A target as the API shows it: never its secret. */
export const toTargetApi = (t: WebhookTarget) => ({ id: t.id, event: t.event, url: t.url, signed: t.secret !== undefined });

export interface MusicRoutesOptions {
  webhooks: WebhookCaller;
  /** Serve generate and the webhook config (FAKER_CONTROL_ENDPOINTS). */
  control: boolean;
}

/** /music/*, and the webhook config at /config (served at both /config and /music/config). */
export function musicRoutes(router: Router, options: MusicRoutesOptions): void {
  const { webhooks } = options;
  if (options.control) {
    router.post('/music/generate', (req, res) => {
      const state = stateOf(res);
      const result = parseInput(generateSchema, req.body).map(({ count }) => state.generate(count));
      // Answer first; the create webhooks are called in the background.
      sendResult(res, result, 201);
      result.inspect((songs) => webhooks.created(state, songs));
    });
  }

  // Every answer carries an ETag (Express: a hash of the body) and, once the list has not changed for
  // a second, a Last-Modified (HTTP dates have whole seconds: a change later in the same second
  // would otherwise look older); If-None-Match / If-Modified-Since are answered 304 when they match.
  router.get('/music', faultGate('music'), (req, res) => {
    const state = stateOf(res);
    const where = updatedSinceFilter(req.query);
    const result = parseMusicPage(req.query).map((page) => {
      switch (page.mode) {
        case 'all':
          return state.list().filter(where);
        case 'slice':
          return state.list().filter(where).slice(page.offset, page.offset + page.limit);
        case 'cursor': {
          const { items, lastSeq } = state.itemsAfter(page.afterSeq, page.limit, where);
          return { items, nextCursor: lastSeq === null ? null : encodeCursor(lastSeq) };
        }
        default: {
          const unreachable: never = page;
          throw new Error(`unknown page mode ${JSON.stringify(unreachable)}`);
        }
      }
    });
    const changedAt = state.listChangedAt.getTime();
    if (result.isOk() && Date.now() - changedAt >= 1000) res.setHeader('last-modified', new Date(Math.floor(changedAt / 1000) * 1000).toUTCString());
    sendResult(res, result);
  });

  if (options.control) webhookConfigRoutes(router);

  router.get('/music/:id', (req, res) => {
    const state = stateOf(res);
    const result = parseInput(idParam, req.params, 'Params').andThen(({ id }) => {
      const item = state.get(id);
      return item ? Result.ok(item) : Result.err(notFound('Song'));
    });
    sendResult(res, result);
  });

  router.delete('/music/:id', (req, res) => {
    const state = stateOf(res);
    const result = parseInput(idParam, req.params, 'Params').andThen(({ id }) => {
      const item = state.remove(id);
      return item ? Result.ok(item) : Result.err(notFound('Song'));
    });
    sendResult(res, result);
    result.inspect((item) => webhooks.removed(state, item));
  });
}

/**
 * `PUT /config` replaces every target (body `{ create: [url], remove: [url] }`; an
 * entry may also be `{ url, secret }`); `/config/targets` adds and removes one target beside the
 * others, so several receivers can listen to one namespace.
 */
function webhookConfigRoutes(router: Router): void {
  const getConfig = (_req: Request, res: Response): void => void res.json(stateOf(res).webhookConfig);
  const putConfig = (req: Request, res: Response): void => {
    const state = stateOf(res);
    const result = parseInput(webhookConfigSchema, req.body, 'Webhook config').map((config) => {
      state.setWebhookConfig(config);
      return state.webhookConfig;
    });
    sendResult(res, result);
  };
  router.get(['/music/config', '/config'], getConfig);
  router.put(['/music/config', '/config'], putConfig);

  router.get('/config/targets', (_req, res) => void res.json({ targets: stateOf(res).webhookTargets.map(toTargetApi) }));
  router.post('/config/targets', (req, res) => {
    const state = stateOf(res);
    const result = parseInput(webhookTargetSchema, req.body, 'Webhook target').andThen((input) => {
      const target = state.addTarget(input);
      return target ? Result.ok(target) : Result.err(new AppError('CONFLICT', `At most ${MAX_TARGETS_PER_EVENT} ${input.event} targets; remove one first`));
    });
    sendResult(res, result, 201, toTargetApi);
  });
  router.delete('/config/targets/:targetId', (req, res) => {
    const state = stateOf(res);
    const result = parseInput(targetIdParam, req.params, 'Params').andThen(({ targetId }) =>
      state.removeTarget(targetId) ? Result.ok(undefined) : Result.err(notFound('Webhook target')),
    );
    sendResult(res, result, 204);
  });
}
