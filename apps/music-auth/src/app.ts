import type { Express } from 'express';
import { createHttpApp, createMetrics, createRateLimiter, listSetting, standardServiceLinks, tokenIssuingFrom, type HealthCheck, type Logger, type Metrics, type RedisClient } from '@music/platform';
import { UserRepository, type Models } from '@music/persistence';
import type { AuthConfig } from './config';
import { authApiDocument } from './auth.openapi';
import { authRoutes } from './auth.routes';
import { createSignInGuard } from './sign-in-guard';
import { SignInUseCase } from './sign-in.use-case';
import { SignUpUseCase } from './sign-up.use-case';

export interface AuthDeps {
  config: AuthConfig;
  logger: Logger;
  models: Models;
  /** Holds the rate-limit counters (a fail-fast client: the limiter fails open without Redis). */
  redis: RedisClient;
  healthChecks: HealthCheck[];
  /** The process's registry (main.ts); a fresh one when omitted. Unused when METRICS_ENABLED is false. */
  metrics?: Metrics;
}

/** The music-auth HTTP app, wired to its dependencies (tests build it the same way). */
export function createAuthApp(deps: AuthDeps): Express {
  const { config, logger, redis } = deps;
  const users = new UserRepository(deps.models);
  const issuing = tokenIssuingFrom(config);
  if (issuing.development) logger.warn('signing tokens with the development key pair: set JWT_PRIVATE_KEY here and JWT_PUBLIC_KEYS on the other apps (production refuses to start without them)');
  const byIp = (endpoint: string) =>
    createRateLimiter({
      redis,
      logger,
      prefix: `${config.AUTH_RATE_LIMIT_PREFIX}:${endpoint}:ip`,
      limit: config.AUTH_RATE_LIMIT_PER_MINUTE,
      windowSeconds: 60,
      setting: 'AUTH_RATE_LIMIT_PER_MINUTE',
    });
  const routes = authRoutes({
    signUp: new SignUpUseCase(users, config.BCRYPT_COST),
    signIn: new SignInUseCase(users, { issuing, bcryptCost: config.BCRYPT_COST }),
    limits: {
      signUp: {
        byIp: byIp('sign-up'),
        byEmail: createRateLimiter({
          redis,
          logger,
          prefix: `${config.AUTH_RATE_LIMIT_PREFIX}:sign-up:email`,
          limit: config.AUTH_EMAIL_RATE_LIMIT_PER_MINUTE,
          windowSeconds: 60,
          setting: 'AUTH_EMAIL_RATE_LIMIT_PER_MINUTE',
        }),
      },
      signIn: {
        byIp: byIp('sign-in'),
        guard: createSignInGuard({
          redis,
          logger,
          prefix: config.AUTH_RATE_LIMIT_PREFIX,
          pairMaxFailures: config.SIGN_IN_PAIR_MAX_FAILURES,
          slowdownAfter: config.SIGN_IN_ACCOUNT_SLOWDOWN_AFTER,
          slowdownBaseMs: config.SIGN_IN_SLOWDOWN_BASE_MS,
          slowdownMaxMs: config.SIGN_IN_SLOWDOWN_MAX_MS,
          windowSeconds: config.SIGN_IN_WINDOW_SECONDS,
          knownAddressDays: config.SIGN_IN_KNOWN_ADDRESS_DAYS,
        }),
      },
    },
    verification: issuing.verification,
  });
  return createHttpApp({
    logger,
    bodyLimit: config.HTTP_BODY_LIMIT,
    healthChecks: deps.healthChecks,
    corsOrigins: listSetting(config.CORS_ORIGINS),
    ...(config.METRICS_ENABLED ? { metrics: deps.metrics ?? createMetrics({ service: 'music-auth' }) } : {}),
    apiDocs: authApiDocument({ metrics: config.METRICS_ENABLED }),
    index: {
      service: 'music-auth',
      description: 'Users of music-sync: sign-up, sign-in and the access tokens every other API asks for (POST /auth/sign-up, POST /auth/sign-in).',
      links: standardServiceLinks({ metrics: config.METRICS_ENABLED }),
    },
    routes: (app) => app.use(routes),
  });
}
