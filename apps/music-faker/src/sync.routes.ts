import type { Request, Response, Router } from 'express';
import type { Result } from '@sapphire/result';
import { z } from 'zod';
import { parseInput, sendResult, type AppError } from '@music/platform';
import { faultGate } from './fault-gate';
import { stateOf } from './namespace-state';
import type { FakerItem } from './song';
import type { ListReceivedDeliveriesUseCase } from './use-cases/list-received-deliveries.use-case';
import type { DeliveryRequest } from './use-cases/receive-delivery';
import type { ReceiveRemovalsUseCase } from './use-cases/receive-removals.use-case';
import type { ReceiveUpsertsUseCase } from './use-cases/receive-upserts.use-case';
import type { RecordFaultedDeliveryUseCase } from './use-cases/record-faulted-delivery.use-case';

// The receiving side of our output webhooks: the sync system pushes items here in the faker's own
// shape, keyed by the faker id.

const MAX_ITEMS_PER_DELIVERY = 1000;
const itemRef = z.looseObject({ id: z.string().min(1).max(256) });
export const deliveryBodySchema = z.union([itemRef, z.array(itemRef).min(1).max(MAX_ITEMS_PER_DELIVERY)]);
const idParam = z.object({ id: z.string().min(1).max(256) });

/** The use cases behind /sync/*. */
export interface DeliveryUseCases {
  receiveUpserts: ReceiveUpsertsUseCase;
  receiveRemovals: ReceiveRemovalsUseCase;
  recordFaultedDelivery: RecordFaultedDeliveryUseCase;
  listReceivedDeliveries: ListReceivedDeliveriesUseCase;
}

export interface SyncRoutesOptions {
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

/** The one item a `DELETE /sync/:id` names. */
const pathItemOf = (req: Request): Result<FakerItem[], AppError> => parseInput(idParam, req.params, 'Params').map(({ id }) => [{ id }]);

function deliveryOf(req: Request): DeliveryRequest {
  return {
    method: req.method,
    path: req.path,
    body: req.body,
    rawBody: req.rawBody ?? '',
    headers: {
      'webhook-id': req.header('webhook-id') ?? '',
      'webhook-timestamp': req.header('webhook-timestamp') ?? '',
      'webhook-signature': req.header('webhook-signature') ?? '',
    },
  };
}

/** POST|PUT /sync/create, DELETE /sync/delete (canonical) | /sync/create | /sync/:id, GET /sync/received. */
export function syncRoutes(router: Router, use: DeliveryUseCases, options: SyncRoutesOptions): void {
  const gate = faultGate('sync', (req, res, status) => use.recordFaultedDelivery.execute({ state: stateOf(res), delivery: deliveryOf(req), status }));

  const deliver =
    (receiver: ReceiveUpsertsUseCase | ReceiveRemovalsUseCase, items: (req: Request) => Result<FakerItem[], AppError>) =>
    (req: Request, res: Response): void =>
      sendResult(res, receiver.execute({ state: stateOf(res), delivery: deliveryOf(req), items: items(req) }));
  const upsert = deliver(use.receiveUpserts, (req) => itemsOf(req.body));
  const removeByBody = deliver(use.receiveRemovals, (req) => itemsOf(req.body));
  const removeByPath = deliver(use.receiveRemovals, pathItemOf);

  if (options.control) {
    router.get('/sync/received', (_req, res) => void res.json(use.listReceivedDeliveries.execute({ state: stateOf(res) })));
  }
  router.post('/sync/create', gate, upsert);
  router.put('/sync/create', gate, upsert);
  router.delete('/sync/delete', gate, removeByBody);
  router.delete('/sync/create', gate, removeByBody);
  router.delete('/sync/:id', gate, removeByPath);
}
