/**
 * music-faker: a fake third-party music service, in memory. Runs as a process (`npx nx serve
 * music-faker`, port 5000) or in-process inside other tests as "the third party".
 *
 * Stable exports (other apps' e2e tests import them by relative path; keep them stable):
 * - `createFakerApp({ config, logger, state? })` -> Express app. Pass your own `state` to inspect it.
 *   It resolves `FAKER.app` from `fakerContainer(deps)` (container.ts), where a test may register
 *   its own parts first (`provideValue(container, FAKER.state, state)`).
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
import type { Express } from 'express';
import { closeServer, createLogger, listen, resolve, type Logger } from '@music/platform';
import { loadFakerConfig } from './config';
import { FAKER, fakerContainer, NAMESPACES_KEY, STATE_KEY, type FakerDeps } from './container';
import { FakerNamespaces } from './faker-namespaces';
import { FakerState } from './faker-state';

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
export { FAKER, fakerContainer, type FakerDeps } from './container';

/** The fake third-party music service (in-memory; no stores of ours), built from its composition root (container.ts). */
export function createFakerApp(deps: FakerDeps): Express {
  return resolve(fakerContainer(deps), FAKER.app);
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
