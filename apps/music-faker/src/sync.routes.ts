import type { Request, RequestHandler, Response, Router } from 'express';
import { Result } from '@sapphire/result';
import { Webhook } from 'standardwebhooks';
import { z } from 'zod';
import { AppError, parseInput, sendResult } from '@music/platform';
import type { DeliveryOutcome } from './faker-state';
import { faultGate } from './faults.routes';
import { stateOf } from './namespace-state';
import type { FakerItem } from './song';

// The receiving side of our output webhooks: the sync system pushes items here in the faker's own
// shape, keyed by the faker id. What arrives here never triggers the faker's create/remove webhooks
// (it came from us; calling back would echo it).

const MAX_ITEMS_PER_DELIVERY = 1000;
const itemRef = z.looseObject({ id: z.string().min(1).max(256) });
export const deliveryBodySchema = z.union([itemRef, z.array(itemRef).min(1).max(MAX_ITEMS_PER_DELIVERY)]);

export interface SyncRoutesOptions {
  /** Standard Webhooks secret; when set, every delivery must be signed with it. */
  webhookSecret?: string;
  /** Serve `GET /sync/received` (FAKER_CONTROL_ENDPOINTS). */
  control: boolean;
}

/** The delivery's items as sent (one or an array), own keys only. */
function itemsOf(body: unknown): Result<FakerItem[], AppError> {
  return parseInput(deliveryBodySchema, body, 'Delivery').map(() => {
    const raw = (Array.isArray(body) ? body : [body]) as Array<Record<string, unknown>>;
    // Copy from the parsed JSON, not from zod's output, keeping every field but `__proto__`.
    return raw.map((r) => Object.fromEntries(Object.entries(r).filter(([key]) => key !== '__proto__')) as FakerItem);
  });
}

function webhookIdOf(req: Request): string | null {
  const id = req.header('webhook-id');
  return id && id.length > 0 ? id : null;
}

/** POST|PUT /sync/create, DELETE /sync/delete (canonical) | /sync/create | /sync/:id, GET /sync/received. */
export function syncRoutes(app: Router, options: SyncRoutesOptions): void {
  const verifier = options.webhookSecret ? new Webhook(options.webhookSecret) : undefined;

  const record = (req: Request, res: Response, outcome: DeliveryOutcome, status: number): void => {
    stateOf(res).recordDelivery({ webhookId: webhookIdOf(req), method: req.method, path: req.path, body: req.body, outcome, status });
  };

  const signature: RequestHandler = (req, res, next) => {
    if (!verifier) return next();
    try {
      verifier.verify(req.rawBody ?? '', {
        'webhook-id': req.header('webhook-id') ?? '',
        'webhook-timestamp': req.header('webhook-timestamp') ?? '',
        'webhook-signature': req.header('webhook-signature') ?? '',
      });
      next();
    } catch {
      record(req, res, 'unauthorized', 401);
      sendResult(res, Result.err(new AppError('UNAUTHORIZED', 'Missing or invalid webhook signature')));
    }
  };

  const gate = [faultGate('sync', (req, res, status) => record(req, res, 'fault', status)), signature];

  /** Validates, de-duplicates by `webhook-id`, applies once, records, answers. */
  const deliver =
    (ids: (req: Request) => Result<FakerItem[], AppError>, apply: (state: ReturnType<typeof stateOf>, items: FakerItem[]) => Record<string, number>) =>
    (req: Request, res: Response): void => {
      const state = stateOf(res);
      const parsed = ids(req);
      if (parsed.isErr()) {
        record(req, res, 'rejected', 400);
        return sendResult(res, parsed);
      }
      const items = parsed.unwrap();
      const webhookId = webhookIdOf(req);
      if (webhookId !== null && state.wasApplied(webhookId)) {
        record(req, res, 'duplicate', 200);
        return void res.json({ received: items.length, duplicate: true });
      }
      const counts = apply(state, items);
      record(req, res, 'applied', 200);
      res.json({ received: items.length, ...counts, duplicate: false });
    };

  const upsert = deliver(
    (req) => itemsOf(req.body),
    (state, items) => {
      let created = 0;
      for (const item of items) if (state.upsert(item) === 'created') created++;
      return { created, updated: items.length - created };
    },
  );
  const remove = (state: ReturnType<typeof stateOf>, items: FakerItem[]): Record<string, number> => ({
    removed: items.filter((item) => state.remove(item.id) !== undefined).length,
  });
  const removeByBody = deliver((req) => itemsOf(req.body), remove);
  const removeByPath = deliver(
    (req) => parseInput(z.object({ id: z.string().min(1).max(256) }), req.params, 'Params').map(({ id }) => [{ id }]),
    remove,
  );

  if (options.control) {
    app.get('/sync/received', (_req, res) => {
      const state = stateOf(res);
      res.json({ ...state.deliveryCounts, deliveries: state.received });
    });
  }
  app.post('/sync/create', ...gate, upsert);
  app.put('/sync/create', ...gate, upsert);
  app.delete('/sync/delete', ...gate, removeByBody);
  app.delete('/sync/create', ...gate, removeByBody);
  app.delete('/sync/:id', ...gate, removeByPath);
}
