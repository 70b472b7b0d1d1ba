/**
 * music-faker: a fake third-party music service, in memory. Runs as a process (`npx nx serve
 * music-faker`, port 5000) or in-process inside other tests as "the third party".
 *
 * Stable exports (other apps' e2e tests import them by relative path; keep them stable):
 * - `createFakerApp({ config, logger, state? })` -> Express app. Pass your own `state` to inspect it.
 * - `startFakerServer({ seed?, webhookSecret?, logger?, webhookTimeoutMs? })` -> `{ baseUrl, state,
 *   namespaces, server, close() }`: the app listening on 127.0.0.1 and a free port. `state` is the
 *   default namespace (the unprefixed routes); `namespaces.get(name)` the one under /ns/<name>.
 * - `FakerState` (class): items, webhook config, received deliveries, outbound calls, faults;
 *   `reset()`, `whenIdle()`. Also `fakerStateOf(app)` to get the state of an app built without one,
 *   and `fakerNamespacesOf(app)` for its named namespaces.
 * - Types: `FakerDeps`, `FakerServer`, `StartFakerOptions`, `FakerSong`, `FakerItem`, `FakerStateOptions`,
 *   `WebhookConfig`, `ReceivedDelivery`, `DeliveryOutcome`, `DeliveryCounts`, `OutboundCall`,
 *   `FaultPlan`, `FaultTarget`; `loadFakerConfig`/`FakerConfig` come from ./config.
 *
 * Example:
 *   const faker = await startFakerServer({ seed: 42 });
 *   await request(faker.baseUrl).post('/music/generate').send({ count: 3 });   // or faker.state.generate(3)
 *   ... point an organization's polling at `${faker.baseUrl}/music` and its output webhook at
 *   `${faker.baseUrl}/sync/create` ...
 *   faker.state.received;        // every delivery: webhookId, method, path, body, outcome, status
 *   faker.state.deliveryCounts;  // { total, applied, duplicates, rejected, unauthorized, faults }
 *   faker.state.list();          // what the third party holds now
 *   await faker.close();
 *
 * Routes: see apps/music-faker/README.md.
 */
import type { Server } from 'node:http';
import { Router, type Express } from 'express';
import { closeServer, createHttpApp, standardServiceLinks, createLogger, createMetrics, listen, type Logger, type Metrics } from '@music/platform';
import { loadFakerConfig, type FakerConfig } from './config';
import { FakerNamespaces } from './faker-namespaces';
import { FakerState } from './faker-state';
import { fakerApiDocument } from './faker.openapi';
import { faultRoutes } from './faults.routes';
import { musicRoutes } from './music.routes';
import { selectNamespace } from './namespace-state';
import { syncRoutes } from './sync.routes';
import { WebhookCaller } from './webhook-caller';

export { FakerState } from './faker-state';
export type {
  DeliveryCounts,
  DeliveryOutcome,
  FakerStateOptions,
  FaultPlan,
  FaultTarget,
  OutboundCall,
  ReceivedDelivery,
  WebhookConfig,
  WebhookEvent,
  WebhookTarget,
  WebhookTargetInput,
} from './faker-state';
export { FakerNamespaces } from './faker-namespaces';
export type { FakerItem, FakerSong } from './song';
export { loadFakerConfig, type FakerConfig } from './config';

export interface FakerDeps {
  config: FakerConfig;
  logger: Logger;
  /** The in-memory state to serve; a new one seeded with `config.FAKER_SEED` when omitted. */
  state?: FakerState;
  /** The process's registry (main.ts); a fresh one when omitted. Unused when METRICS_ENABLED is false. */
  metrics?: Metrics;
}

const STATE_KEY = 'fakerState';
const NAMESPACES_KEY = 'fakerNamespaces';

/** The fake third-party music service (in-memory; no stores of ours). */
export function createFakerApp(deps: FakerDeps): Express {
  const { config, logger } = deps;
  const state = deps.state ?? new FakerState({ seed: config.FAKER_SEED });
  const namespaces = new FakerNamespaces(state);
  const webhooks = new WebhookCaller({ logger, timeoutMs: config.FAKER_WEBHOOK_TIMEOUT_MS });
  const control = config.FAKER_CONTROL_ENDPOINTS;
  // One set of routes, served for the default namespace at / and for each named one at /ns/<name>.
  const namespaceRoutes = (): Router => {
    const router = Router({ mergeParams: true });
    router.use(selectNamespace(namespaces));
    musicRoutes(router, { webhooks, control });
    syncRoutes(router, { webhookSecret: config.FAKER_WEBHOOK_SECRET, control });
    if (control) faultRoutes(router, namespaces);
    return router;
  };
  const app = createHttpApp({
    logger,
    bodyLimit: config.HTTP_BODY_LIMIT,
    ...(config.METRICS_ENABLED ? { metrics: deps.metrics ?? createMetrics({ service: 'music-faker' }) } : {}),
    apiDocs: fakerApiDocument({ metrics: config.METRICS_ENABLED, controlEndpoints: control }),
    index: {
      service: 'music-faker',
      description: 'A fake third-party music service for demos and tests: songs at /music, and /sync/* receiving what music-sync delivers.',
      links: standardServiceLinks({ metrics: config.METRICS_ENABLED }),
    },
    routes: (app) => {
      app.use('/ns/:namespace', namespaceRoutes());
      app.use(namespaceRoutes());
    },
  });
  app.locals[STATE_KEY] = state;
  app.locals[NAMESPACES_KEY] = namespaces;
  return app;
}

/** Every namespace of an app made by `createFakerApp` (its default one is `fakerStateOf(app)`). */
export function fakerNamespacesOf(app: Express): FakerNamespaces {
  const namespaces: unknown = app.locals[NAMESPACES_KEY];
  if (!(namespaces instanceof FakerNamespaces)) throw new Error('not a music-faker app');
  return namespaces;
}

/** The state an app made by `createFakerApp` serves (its default namespace). */
export function fakerStateOf(app: Express): FakerState {
  const state: unknown = app.locals[STATE_KEY];
  if (!(state instanceof FakerState)) throw new Error('not a music-faker app');
  return state;
}

export interface StartFakerOptions {
  seed?: number;
  /** `whsec_...`: deliveries to /sync/* must then be signed. */
  webhookSecret?: string;
  webhookTimeoutMs?: number;
  logger?: Logger;
  state?: FakerState;
}

export interface FakerServer {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** The default namespace. */
  state: FakerState;
  /** Every namespace (`/ns/<name>/...`). */
  namespaces: FakerNamespaces;
  server: Server;
  /** Waits for webhook calls in flight, then stops the server. */
  close: () => Promise<void>;
}

/** Starts a faker on 127.0.0.1 and a free port (for tests that need a real URL). */
export async function startFakerServer(options: StartFakerOptions = {}): Promise<FakerServer> {
  const config = loadFakerConfig({
    NODE_ENV: 'test',
    FAKER_WEBHOOK_SECRET: options.webhookSecret,
    FAKER_WEBHOOK_TIMEOUT_MS: options.webhookTimeoutMs?.toString(),
  });
  const state = options.state ?? new FakerState({ seed: options.seed });
  const logger = options.logger ?? createLogger({ service: 'music-faker', silent: true });
  const app = createFakerApp({ config, logger, state });
  const namespaces = fakerNamespacesOf(app);
  const server = await listen(app, 0, '127.0.0.1');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    state,
    namespaces,
    server,
    close: async () => {
      await namespaces.whenIdle();
      await closeServer(server);
    },
  };
}
