import validator from 'validator';

// Gmail dots are kept: `john.doe@gmail.com` and `johndoe@gmail.com` stay distinct accounts, as
// the user typed them. Everything else follows validator's defaults (lower case, Gmail `+tag` and
// `googlemail.com` folded), so one mailbox is one account.
const NORMALIZE = { gmail_remove_dots: false } as const;

/** The canonical form of an email address, or null when it is not a valid address. */
export function normalizeEmailAddress(raw: string): string | null {
  const trimmed = raw.trim();
  if (trimmed.length > 254 || !validator.isEmail(trimmed)) return null;
  const normalized = validator.normalizeEmail(trimmed, NORMALIZE);
  return normalized || null;
}
