import { Result } from '@sapphire/result';
import { AppError } from '@music/platform';
import type { DeliverySignature, SignatureHeaders } from '../delivery-signature';
import type { DeliveryOutcome, FakerState } from '../faker-state';
import type { FakerItem } from '../song';

// What the delivery use cases share. Deliveries are the receiving side of music-sync's output
// webhooks: items pushed in the faker's own shape, keyed by the faker id. What arrives never
// triggers the faker's create/remove webhooks (it came from music-sync; calling back would echo it).

/** One request to a /sync/* delivery route, as received. */
export interface DeliveryRequest {
  method: string;
  path: string;
  /** The parsed JSON body (undefined when there was none). */
  body: unknown;
  /** The body's bytes as received: what a signature covers. */
  rawBody: string | Buffer;
  headers: SignatureHeaders;
}

export interface ReceiveDeliveryCommand {
  /** The request's namespace. */
  state: FakerState;
  delivery: DeliveryRequest;
  /** The delivery's items as the route read them; an Err is recorded as a rejected delivery. */
  items: Result<FakerItem[], AppError>;
}

/** What a delivery's answer says: how many items came, and what became of them unless a repeat. */
export interface DeliveryReceipt {
  received: number;
  created?: number;
  updated?: number;
  removed?: number;
  duplicate: boolean;
}

/** The item counts of an applied delivery. */
export type AppliedCounts = Omit<DeliveryReceipt, 'received' | 'duplicate'>;

/** Logs one delivery in the namespace's received log, with what became of it and the status answered. */
export function recordDelivery(state: FakerState, delivery: DeliveryRequest, outcome: DeliveryOutcome, status: number): void {
  const webhookId = webhookIdOf(delivery);
  state.recordDelivery({ webhookId, method: delivery.method, path: delivery.path, body: delivery.body, outcome, status });
}

/**
 * Checks the signature, then the items, de-duplicates by `webhook-id` (a repeat is acknowledged,
 * not applied again), applies once, and records the delivery whatever its outcome.
 */
export function receiveDelivery(
  signature: DeliverySignature,
  command: ReceiveDeliveryCommand,
  apply: (state: FakerState, items: FakerItem[]) => AppliedCounts,
): Result<DeliveryReceipt, AppError> {
  const { state, delivery } = command;
  if (!signature.verifies(delivery.rawBody, delivery.headers)) {
    recordDelivery(state, delivery, 'unauthorized', 401);
    return Result.err(new AppError('UNAUTHORIZED', 'Missing or invalid webhook signature'));
  }
  if (command.items.isErr()) {
    recordDelivery(state, delivery, 'rejected', 400);
    return Result.err(command.items.unwrapErr());
  }
  const items = command.items.unwrap();
  const webhookId = webhookIdOf(delivery);
  if (webhookId !== null && state.wasApplied(webhookId)) {
    recordDelivery(state, delivery, 'duplicate', 200);
    return Result.ok({ received: items.length, duplicate: true });
  }
  const counts = apply(state, items);
  recordDelivery(state, delivery, 'applied', 200);
  return Result.ok({ received: items.length, ...counts, duplicate: false });
}

function webhookIdOf(delivery: DeliveryRequest): string | null {
  const id = delivery.headers['webhook-id'];
  return id.length > 0 ? id : null;
}
