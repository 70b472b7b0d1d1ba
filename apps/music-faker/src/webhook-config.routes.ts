import type { Router } from 'express';
import { z } from 'zod';
import { parseInput, sendResult } from '@music/platform';
import { MAX_TARGETS_PER_EVENT, type WebhookTarget } from './faker-state';
import { stateOf } from './namespace-state';
import type { AddWebhookTargetUseCase } from './use-cases/add-webhook-target.use-case';
import type { GetWebhookConfigUseCase } from './use-cases/get-webhook-config.use-case';
import type { ListWebhookTargetsUseCase } from './use-cases/list-webhook-targets.use-case';
import type { RemoveWebhookTargetUseCase } from './use-cases/remove-webhook-target.use-case';
import type { ReplaceWebhookConfigUseCase } from './use-cases/replace-webhook-config.use-case';

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

const targetIdParam = z.object({ targetId: z.string().min(1).max(64) });

/** A target as the API shows it: never its secret. */
export const toTargetApi = (t: WebhookTarget) => ({ id: t.id, event: t.event, url: t.url, signed: t.secret !== undefined });

/** The use cases behind /config, one per route. */
export interface WebhookConfigUseCases {
  getWebhookConfig: GetWebhookConfigUseCase;
  replaceWebhookConfig: ReplaceWebhookConfigUseCase;
  listWebhookTargets: ListWebhookTargetsUseCase;
  addWebhookTarget: AddWebhookTargetUseCase;
  removeWebhookTarget: RemoveWebhookTargetUseCase;
}

/**
 * `PUT /config` replaces every target (body `{ create: [url], remove: [url] }`; an
 * entry may also be `{ url, secret }`); `/config/targets` adds and removes one target beside the
 * others, so several receivers can listen to one namespace.
 */
export function webhookConfigRoutes(router: Router, use: WebhookConfigUseCases): void {
  router.get(['/music/config', '/config'], (_req, res) => void res.json(use.getWebhookConfig.execute({ state: stateOf(res) })));
  router.put(['/music/config', '/config'], (req, res) => {
    const state = stateOf(res);
    sendResult(res, parseInput(webhookConfigSchema, req.body, 'Webhook config').map((config) => use.replaceWebhookConfig.execute({ state, config })));
  });

  router.get('/config/targets', (_req, res) => void res.json({ targets: use.listWebhookTargets.execute({ state: stateOf(res) }).map(toTargetApi) }));
  router.post('/config/targets', (req, res) => {
    const state = stateOf(res);
    const result = parseInput(webhookTargetSchema, req.body, 'Webhook target').andThen((target) => use.addWebhookTarget.execute({ state, target }));
    sendResult(res, result, 201, toTargetApi);
  });
  router.delete('/config/targets/:targetId', (req, res) => {
    const state = stateOf(res);
    const result = parseInput(targetIdParam, req.params, 'Params').andThen(({ targetId }) => use.removeWebhookTarget.execute({ state, targetId }));
    sendResult(res, result, 204);
  });
}
