import { Router, type Express } from 'express';
import type { DependencyContainer } from 'tsyringe';
import { createContainer, createHttpApp, createMetrics, provideFactory, provideValue, resolve, standardServiceLinks, token, type Logger, type Metrics } from '@music/platform';
import type { FakerConfig } from './config';
import { FakerNamespaces } from './faker-namespaces';
import { FakerState } from './faker-state';
import { fakerApiDocument } from './faker.openapi';
import { faultRoutes } from './faults.routes';
import { musicRoutes } from './music.routes';
import { selectNamespace } from './namespace-state';
import { syncRoutes } from './sync.routes';
import { WebhookCaller } from './webhook-caller';

/** What the process (main.ts) or a test hands in. */
export interface FakerDeps {
  config: FakerConfig;
  logger: Logger;
  /** The in-memory state to serve; a new one seeded with `config.FAKER_SEED` when omitted. */
  state?: FakerState;
  /** The process's registry (main.ts); a fresh one when omitted. Unused when METRICS_ENABLED is false. */
  metrics?: Metrics;
}

export const STATE_KEY = 'fakerState';
export const NAMESPACES_KEY = 'fakerNamespaces';

/** Everything music-faker is built from; a test overrides one with `provideValue` before resolving `FAKER.app`. */
export const FAKER = {
  config: token<FakerConfig>('FakerConfig'),
  logger: token<Logger>('Logger'),
  /** The default namespace's state (the unprefixed routes). */
  state: token<FakerState>('FakerState'),
  namespaces: token<FakerNamespaces>('FakerNamespaces'),
  webhooks: token<WebhookCaller>('WebhookCaller'),
  /** Resolved only when METRICS_ENABLED. */
  metrics: token<Metrics>('Metrics'),
  app: token<Express>('FakerApp'),
};

/** music-faker's composition root: each dependency registered with the factory that builds it. */
export function fakerContainer(deps: FakerDeps): DependencyContainer {
  const c = createContainer();
  provideValue(c, FAKER.config, deps.config);
  provideValue(c, FAKER.logger, deps.logger);
  provideFactory(c, FAKER.state, (c) => deps.state ?? new FakerState({ seed: resolve(c, FAKER.config).FAKER_SEED }));
  provideFactory(c, FAKER.namespaces, (c) => new FakerNamespaces(resolve(c, FAKER.state)));
  provideFactory(c, FAKER.webhooks, (c) => new WebhookCaller({ logger: resolve(c, FAKER.logger), timeoutMs: resolve(c, FAKER.config).FAKER_WEBHOOK_TIMEOUT_MS }));
  provideFactory(c, FAKER.metrics, () => deps.metrics ?? createMetrics({ service: 'music-faker' }));
  provideFactory(c, FAKER.app, (c) => {
    const config = resolve(c, FAKER.config);
    const namespaces = resolve(c, FAKER.namespaces);
    const webhooks = resolve(c, FAKER.webhooks);
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
      logger: resolve(c, FAKER.logger),
      bodyLimit: config.HTTP_BODY_LIMIT,
      ...(config.METRICS_ENABLED ? { metrics: resolve(c, FAKER.metrics) } : {}),
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
    // What fakerStateOf(app) and fakerNamespacesOf(app) read.
    app.locals[STATE_KEY] = resolve(c, FAKER.state);
    app.locals[NAMESPACES_KEY] = namespaces;
    return app;
  });
  return c;
}
