import validator from 'validator';

// Gmail dots are kept: `john.doe@gmail.com` and `johndoe@gmail.com` stay distinct accounts, as
// the user typed them. Everything else follows validator's defaults (lower case, Gmail `+tag` and
// `googlemail.com` folded), so one mailbox is one account.
const NORMALIZE = { gmail_remove_dots: false } as const;
// A lone surrogate (under the `u` flag, a paired one is one code point and does not match).
const LONE_SURROGATE = /\p{Cs}/u;

/** The canonical form of an email address, or null when it is not a valid address. */
export function normalizeEmailAddress(raw: string): string | null {
  const trimmed = raw.trim();
  // validator throws a URIError on text that is not well-formed UTF-16 (a lone surrogate, which
  // JSON can carry as "\ud800"): such text is no address.
  if (trimmed.length > 254 || LONE_SURROGATE.test(trimmed) || !validator.isEmail(trimmed)) return null;
  const normalized = validator.normalizeEmail(trimmed, NORMALIZE);
  return normalized || null;
}
