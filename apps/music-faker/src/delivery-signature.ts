import { Webhook } from 'standardwebhooks';

/** The Standard Webhooks headers of a delivery, as received ('' when absent). */
export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Checks the deliveries pushed to /sync/*: with FAKER_WEBHOOK_SECRET set, each must be signed with
 * it (over the exact body bytes received); without it, every delivery is accepted.
 */
export class DeliverySignature {
  private readonly verifier: Webhook | undefined;

  constructor(secret: string | undefined) {
    this.verifier = secret ? new Webhook(secret) : undefined;
  }

  verifies(rawBody: string | Buffer, headers: SignatureHeaders): boolean {
    if (!this.verifier) return true;
    try {
      this.verifier.verify(rawBody, { ...headers });
      return true;
    } catch {
      return false;
    }
  }
}
