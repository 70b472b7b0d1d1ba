import { timingSafeEqual } from 'node:crypto';
import { Result } from '@sapphire/result';
import type { Webhook } from '@music/domain';
import { AppError, webhookSigner, webhookTokenHash } from '@music/platform';

/** What an input webhook call presents: its exact body bytes, its Standard Webhooks headers, its URL token. */
export interface InboundCall {
  rawBody: Buffer;
  headers: { id: string | undefined; timestamp: string | undefined; signature: string | undefined };
  token: string | undefined;
}

/** How a call was authenticated: by signature, by the URL token, or not at all (allowed outside production only). */
export type InboundAuthentication = { via: 'signature' | 'token' | 'none' };

export interface InboundAuthPolicy {
  /** Accept calls carrying neither signature nor token (INBOUND_WEBHOOK_UNAUTHENTICATED=accept). */
  acceptUnauthenticated: boolean;
  now?: Date;
}

const invalid = (message: string): AppError => new AppError('UNAUTHORIZED', message);

/** The webhook's secrets that verify now: the current one, and the previous one within a rotation's overlap. */
function liveSecrets(hook: Webhook, now: Date): string[] {
  const overlap = hook.previousSecretExpiresAt !== undefined && hook.previousSecretExpiresAt > now;
  return [hook.secret, overlap ? hook.previousSecret : undefined].filter((s): s is string => typeof s === 'string' && s.length > 0);
}

function liveTokenHashes(hook: Webhook, now: Date): string[] {
  const overlap = hook.previousSecretExpiresAt !== undefined && hook.previousSecretExpiresAt > now;
  return [hook.tokenHash, overlap ? hook.previousTokenHash : undefined].filter((h): h is string => typeof h === 'string' && h.length > 0);
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

function signatureVerifies(secret: string, call: InboundCall): boolean {
  try {
    // The official library: constant-time comparison, 5-minute timestamp tolerance, every
    // `v1,` signature of the header tried.
    webhookSigner(secret).verify(call.rawBody, {
      'webhook-id': call.headers.id ?? '',
      'webhook-timestamp': call.headers.timestamp ?? '',
      'webhook-signature': call.headers.signature ?? '',
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * Authenticates a call to one of an organization's input webhooks (those for the call's method).
 * A call carries a Standard Webhooks signature made with the webhook's secret, or the webhook's
 * token in its URL (`&token=`, for third parties that cannot sign); during a rotation's overlap
 * the previous secret and token work too. Whatever a call presents must verify. A call presenting
 * neither is accepted only when the policy says so (development), otherwise refused.
 */
export function authenticateInboundCall(hooks: readonly Webhook[], call: InboundCall, policy: InboundAuthPolicy): Result<InboundAuthentication, AppError> {
  const now = policy.now ?? new Date();
  const signed = Boolean(call.headers.signature);
  const tokened = call.token !== undefined && call.token !== '';
  if (tokened) {
    const presented = webhookTokenHash(call.token as string);
    if (!hooks.some((h) => liveTokenHashes(h, now).some((hash) => sameHash(hash, presented)))) return Result.err(invalid('Invalid webhook token'));
  }
  if (signed && !hooks.some((h) => liveSecrets(h, now).some((secret) => signatureVerifies(secret, call)))) {
    return Result.err(invalid('Missing or invalid webhook signature'));
  }
  if (signed) return Result.ok({ via: 'signature' });
  if (tokened) return Result.ok({ via: 'token' });
  if (policy.acceptUnauthenticated) return Result.ok({ via: 'none' });
  return Result.err(invalid('Input webhook calls must carry a Standard Webhooks signature (webhook-id, webhook-timestamp, webhook-signature) or the webhook’s token'));
}
