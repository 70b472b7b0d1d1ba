// Organization-configured URLs may carry credentials (`https://user:pass@host/...`,
// `?api_key=...`): they are masked wherever a URL is shown - API answers, sync runs, logs.

/** Query parameters whose values are credentials (matched anywhere in the name, any case). */
const SECRET_PARAM = /token|secret|passw|pwd|key|signature|^sig$|auth|credential|session/i;
const MASK = '***';
const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'<>`]+/gi;

/** The URL with its user info and credential-like query values replaced by `***`; other text as is. */
export function maskUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  let changed = false;
  if (url.username || url.password) {
    url.username = MASK;
    url.password = '';
    changed = true;
  }
  for (const name of new Set(url.searchParams.keys())) {
    if (SECRET_PARAM.test(name)) {
      url.searchParams.set(name, MASK);
      changed = true;
    }
  }
  // Untouched URLs keep their exact spelling (URL serialization would normalize them).
  return changed ? url.toString().replace(/%2A%2A%2A/g, MASK) : value;
}

/** Every http(s) URL inside a text, masked (error messages, log lines). */
export function maskUrlsIn(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_IN_TEXT, (found) => {
    // Punctuation that ends the sentence is not part of the URL.
    const tail = /[.,;:!?)\]]+$/.exec(found)?.[0] ?? '';
    return maskUrl(found.slice(0, found.length - tail.length)) + tail;
  });
}
