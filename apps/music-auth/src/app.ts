import type { Express } from 'express';
import { createHttpApp, standardServiceLinks, createMetrics, createRateLimiter, listSetting, type HealthCheck, type Logger, type Metrics, type RedisClient } from '@music/platform';
import { UserRepository, type Models } from '@music/persistence';
import type { AuthConfig } from './config';
import { authApiDocument } from './auth.openapi';
import { authRoutes, type EndpointLimits } from './auth.routes';
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
  const limitsFor = (endpoint: string): EndpointLimits => ({
    byIp: createRateLimiter({
      redis,
      logger,
      prefix: `${config.AUTH_RATE_LIMIT_PREFIX}:${endpoint}:ip`,
      limit: config.AUTH_RATE_LIMIT_PER_MINUTE,
      windowSeconds: 60,
    }),
    byEmail: createRateLimiter({
      redis,
      logger,
      prefix: `${config.AUTH_RATE_LIMIT_PREFIX}:${endpoint}:email`,
      limit: config.AUTH_EMAIL_RATE_LIMIT_PER_MINUTE,
      windowSeconds: 60,
    }),
  });

  const routes = authRoutes({
    signUp: new SignUpUseCase(users, config.BCRYPT_COST),
    signIn: new SignInUseCase(users, {
      jwtSecret: config.JWT_SECRET,
      expiresInSeconds: config.JWT_EXPIRES_IN_SECONDS,
      bcryptCost: config.BCRYPT_COST,
    }),
    limits: { signUp: limitsFor('sign-up'), signIn: limitsFor('sign-in') },
    jwtSecret: config.JWT_SECRET,
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
