import { Router, type Express } from 'express';
import type { DependencyContainer } from 'tsyringe';
import { createContainer, createHttpApp, createMetrics, provideFactory, provideValue, resolve, standardServiceLinks, token, type Logger, type Metrics } from '@music/platform';
import type { FakerConfig } from './config';
import { DeliverySignature } from './delivery-signature';
import { FakerNamespaces } from './faker-namespaces';
import { FakerState } from './faker-state';
import { fakerApiDocument } from './faker.openapi';
import { faultRoutes, type FaultUseCases } from './faults.routes';
import { musicRoutes, type MusicUseCases } from './music.routes';
import { selectNamespace } from './namespace-state';
import { syncRoutes, type DeliveryUseCases } from './sync.routes';
import { AddWebhookTargetUseCase } from './use-cases/add-webhook-target.use-case';
import { ClearFaultsUseCase } from './use-cases/clear-faults.use-case';
import { DeleteSongUseCase } from './use-cases/delete-song.use-case';
import { GenerateSongsUseCase } from './use-cases/generate-songs.use-case';
import { GetFaultsUseCase } from './use-cases/get-faults.use-case';
import { GetSongUseCase } from './use-cases/get-song.use-case';
import { GetWebhookConfigUseCase } from './use-cases/get-webhook-config.use-case';
import { ListReceivedDeliveriesUseCase } from './use-cases/list-received-deliveries.use-case';
import { ListSongsUseCase } from './use-cases/list-songs.use-case';
import { ListWebhookTargetsUseCase } from './use-cases/list-webhook-targets.use-case';
import { ReceiveRemovalsUseCase } from './use-cases/receive-removals.use-case';
import { ReceiveUpsertsUseCase } from './use-cases/receive-upserts.use-case';
import { RecordFaultedDeliveryUseCase } from './use-cases/record-faulted-delivery.use-case';
import { RemoveWebhookTargetUseCase } from './use-cases/remove-webhook-target.use-case';
import { ReplaceWebhookConfigUseCase } from './use-cases/replace-webhook-config.use-case';
import { ResetNamespacesUseCase } from './use-cases/reset-namespaces.use-case';
import { SetFaultsUseCase } from './use-cases/set-faults.use-case';
import { WebhookCaller } from './webhook-caller';
import type { WebhookConfigUseCases } from './webhook-config.routes';

/** What the process (main.ts) or a test hands in. */
export interface FakerDeps {
  config: FakerConfig;
  logger: Logger;
  /** The in-memory state to serve; a new one seeded with `config.FAKER_SEED` when omitted. */
  state?: FakerState;
  /** The process's registry (main.ts); a fresh one when omitted. Unused when METRICS_ENABLED is false. */
  metrics?: Metrics;
}

/** Every use case of the faker, one per route (each routes file lists those it calls). */
export type FakerUseCases = MusicUseCases & WebhookConfigUseCases & DeliveryUseCases & FaultUseCases;

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
  /** Checks deliveries to /sync/* against FAKER_WEBHOOK_SECRET (accepts all without one). */
  deliverySignature: token<DeliverySignature>('DeliverySignature'),
  useCases: token<FakerUseCases>('FakerUseCases'),
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
  provideFactory(c, FAKER.deliverySignature, (c) => new DeliverySignature(resolve(c, FAKER.config).FAKER_WEBHOOK_SECRET));
  provideFactory(c, FAKER.useCases, (c): FakerUseCases => {
    const webhooks = resolve(c, FAKER.webhooks);
    const signature = resolve(c, FAKER.deliverySignature);
    return {
      generateSongs: new GenerateSongsUseCase({ webhooks }),
      listSongs: new ListSongsUseCase(),
      getSong: new GetSongUseCase(),
      deleteSong: new DeleteSongUseCase({ webhooks }),
      getWebhookConfig: new GetWebhookConfigUseCase(),
      replaceWebhookConfig: new ReplaceWebhookConfigUseCase(),
      listWebhookTargets: new ListWebhookTargetsUseCase(),
      addWebhookTarget: new AddWebhookTargetUseCase(),
      removeWebhookTarget: new RemoveWebhookTargetUseCase(),
      receiveUpserts: new ReceiveUpsertsUseCase({ signature }),
      receiveRemovals: new ReceiveRemovalsUseCase({ signature }),
      recordFaultedDelivery: new RecordFaultedDeliveryUseCase(),
      listReceivedDeliveries: new ListReceivedDeliveriesUseCase(),
      setFaults: new SetFaultsUseCase(),
      getFaults: new GetFaultsUseCase(),
      clearFaults: new ClearFaultsUseCase(),
      resetNamespaces: new ResetNamespacesUseCase({ namespaces: resolve(c, FAKER.namespaces) }),
    };
  });
  provideFactory(c, FAKER.metrics, () => deps.metrics ?? createMetrics({ service: 'music-faker' }));
  provideFactory(c, FAKER.app, (c) => {
    const config = resolve(c, FAKER.config);
    const namespaces = resolve(c, FAKER.namespaces);
    const useCases = resolve(c, FAKER.useCases);
    const control = config.FAKER_CONTROL_ENDPOINTS;
    // One set of routes, served for the default namespace at / and for each named one at /ns/<name>.
    const namespaceRoutes = (): Router => {
      const router = Router({ mergeParams: true });
      router.use(selectNamespace(namespaces));
      musicRoutes(router, useCases, { control });
      syncRoutes(router, useCases, { control });
      if (control) faultRoutes(router, useCases);
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
