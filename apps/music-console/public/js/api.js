// @ts-check
// The four APIs, called on the console's own origin: `/api/<service>/...` is forwarded unchanged
// to music-config, music-auth, music-inventory and music-integration.

const SESSION_KEY = 'music-sync.session';

/**
 * @typedef {{ token: string, email: string, expiresAt: number }} Session
 * @typedef {{ path: string, message: string }} ErrorDetail
 */

/** An API's error envelope, as an exception: status, stable code, message and offending fields. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {ErrorDetail[]} [details]
   */
  constructor(status, code, message, details = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * The signed-in user, kept for this tab only (sessionStorage), or null once the token expired.
 * @returns {Session | null}
 */
export function currentSession() {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    const session = raw ? /** @type {Session} */ (JSON.parse(raw)) : null;
    return session && session.expiresAt > Date.now() ? session : null;
  } catch {
    return null;
  }
}

export function signOut() {
  sessionStorage.removeItem(SESSION_KEY);
}

/** Called when an API says the token is no longer good (set by the app: back to sign-in). */
let onUnauthorized = () => {};
/** @param {() => void} handler */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

/**
 * One API call. JSON in, JSON out; an error status throws ApiError with the envelope's fields.
 * @param {'config' | 'auth' | 'inventory' | 'integration'} service
 * @param {string} path
 * @param {{ method?: string, body?: unknown, query?: Record<string, string | number | undefined>, headers?: Record<string, string> }} [options]
 * @returns {Promise<any>}
 */
export async function call(service, path, options = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined && value !== '') query.set(key, String(value));
  const url = `/api/${service}${path}${query.toString() ? `?${query}` : ''}`;
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', ...(options.headers ?? {}) };
  const session = currentSession();
  if (session) headers['authorization'] = `Bearer ${session.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(url, { method: options.method ?? 'GET', headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The console cannot reach its server: is it running?');
  }
  const text = await response.text();
  /** @type {any} */
  let body;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const error = body && body.error ? body.error : { code: 'HTTP_' + response.status, message: `The server answered ${response.status}` };
    if (response.status === 401 && service !== 'auth') {
      signOut();
      onUnauthorized();
    }
    throw new ApiError(response.status, error.code, error.message, error.details ?? []);
  }
  return body;
}

/**
 * Signs in through music-auth and keeps the token for this tab.
 * @param {string} email
 * @param {string} password
 */
export async function signIn(email, password) {
  const result = await call('auth', '/auth/sign-in', { method: 'POST', body: { email, password } });
  /** @type {Session} */
  const session = { token: result.token, email, expiresAt: Date.now() + Number(result.expiresIn ?? 3600) * 1000 };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/**
 * @param {string} email
 * @param {string} password
 */
export function signUp(email, password) {
  return call('auth', '/auth/sign-up', { method: 'POST', body: { email, password } });
}

const enc = encodeURIComponent;

export const organizations = {
  list: () => call('config', '/organization'),
  /** @param {string} id */
  get: (id) => call('config', `/organization/${enc(id)}`),
  /** @param {unknown} body */
  create: (body) => call('config', '/organization', { method: 'POST', body }),
  /** @param {string} id */
  syncNow: (id) => call('config', `/organization/${enc(id)}/sync`, { method: 'POST' }),
  /**
   * @param {string} id
   * @param {unknown} body
   */
  previewMapping: (id, body) => call('config', `/organization/${enc(id)}/mapping-preview`, { method: 'POST', body }),
  /**
   * A new secret for a webhook (and a new call URL for an input one), in the answer only.
   * @param {string} id
   * @param {string} webhookId
   */
  rotateSecret: (id, webhookId) => call('config', `/organization/${enc(id)}/webhooks/${enc(webhookId)}/rotate-secret`, { method: 'POST' }),
};

/** The sync controls (music-integration): status, pause and resume, test events. */
export const controls = {
  /** @param {string} id */
  status: (id) => call('integration', `/organization/${enc(id)}/status`),
  /**
   * The organization, or one polling entry of it, stops polling until resumed.
   * @param {string} id
   * @param {{ entryId?: string, reason?: string }} body
   */
  pause: (id, body) => call('integration', `/organization/${enc(id)}/pause`, { method: 'POST', body }),
  /**
   * @param {string} id
   * @param {{ entryId?: string }} body
   */
  resume: (id, body) => call('integration', `/organization/${enc(id)}/resume`, { method: 'POST', body }),
  /**
   * @param {string} id
   * @param {string} webhookId
   */
  testWebhook: (id, webhookId) => call('integration', `/organization/${enc(id)}/webhooks/${enc(webhookId)}/test`, { method: 'POST' }),
};

export const history = {
  /**
   * @param {string} id
   * @param {Record<string, string | number | undefined>} [query]
   */
  runs: (id, query) => call('integration', `/organization/${enc(id)}/sync-runs`, { query }),
  /**
   * @param {string} id
   * @param {Record<string, string | number | undefined>} [query]
   */
  deliveries: (id, query) => call('integration', `/organization/${enc(id)}/deliveries`, { query }),
  /**
   * @param {string} id
   * @param {string} deliveryId
   */
  replay: (id, deliveryId) => call('integration', `/organization/${enc(id)}/deliveries/${enc(deliveryId)}/replay`, { method: 'POST' }),
  /**
   * Every finished delivery matching the filter, sent again: `{ replayed, skipped }`.
   * @param {string} id
   * @param {{ status?: string, webhookId?: string, externalId?: string, since?: string, until?: string, limit?: number }} filter
   */
  replayMatching: (id, filter) => call('integration', `/organization/${enc(id)}/deliveries/replay`, { method: 'POST', body: filter }),
  /** @param {string} id */
  divergences: (id) => call('integration', `/organization/${enc(id)}/divergences`, { query: { limit: 200 } }),
  /**
   * @param {string} id
   * @param {string} externalId
   */
  replayDivergence: (id, externalId) => call('integration', `/organization/${enc(id)}/divergences/${enc(externalId)}/replay`, { method: 'POST' }),
  /**
   * @param {string} id
   * @param {string} externalId
   */
  acceptRemote: (id, externalId) => call('integration', `/organization/${enc(id)}/divergences/${enc(externalId)}/accept-remote`, { method: 'POST' }),
};

/** The canonical example organization the "new organization" form starts from. */
export async function exampleOrganization() {
  const response = await fetch('/example-organization.json', { headers: { accept: 'application/json' } });
  return response.json();
}
