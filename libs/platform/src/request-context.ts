import { AsyncLocalStorage } from 'node:async_hooks';

/** Identifiers carried by every log line written while serving a request, job or delivery. */
export interface RequestContext {
  requestId?: string;
  orgId?: string;
  jobId?: string;
  runId?: string;
  deliveryId?: string;
  /** The item's id on the third party's side: a search by it follows one record through the sync. */
  externalId?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` with `ctx` merged into the current context. */
export function withContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...ctx }, fn);
}

/** Adds fields to the current context (e.g. the org id once a route has resolved it). */
export function addToContext(ctx: RequestContext): void {
  const store = storage.getStore();
  if (store) Object.assign(store, ctx);
}

export function currentContext(): RequestContext {
  return storage.getStore() ?? {};
}
