import { createHash } from 'node:crypto';
import { normalizeEmailAddress } from '../email';

/**
 * The key an account's attempts are counted under: its mailbox (normalized when valid), hashed so
 * Redis holds no addresses.
 */
export function accountKey(rawEmail: string): string {
  const email = normalizeEmailAddress(rawEmail) ?? rawEmail.trim().toLowerCase();
  return createHash('sha256').update(email).digest('hex').slice(0, 32);
}
