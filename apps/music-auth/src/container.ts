import type { Express } from 'express';
import type { DependencyContainer } from 'tsyringe';
import {
  createContainer,
  createHttpApp,
  createMetrics,
  createRateLimiter,
  provideFactory,
  provideValue,
  resolve,
  serviceAppOptions,
  token,
  tokenIssuingFrom,
  type HealthCheck,
  type Logger,
  type Metrics,
  type RateLimiter,
  type RedisClient,
  type TokenIssuing,
} from '@music/platform';
import { UserRepository, type Models } from '@music/persistence';
import type { AuthConfig } from './config';
import { authApiDocument } from './auth.openapi';
import { authRoutes } from './auth.routes';
import { createSignInGuard, type SignInGuard } from './sign-in-guard';
import { SignInUseCase } from './use-cases/sign-in.use-case';
import { SignUpUseCase } from './use-cases/sign-up.use-case';

/** What the process (main.ts) or a test hands in: settings, connections, the logger. */
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

/** The limits sign-up and sign-in are held to. */
export interface AuthLimits {
  /** Sign-ups by client address (the route) and by email address (the use case). */
  signUp: { byIp: RateLimiter; byEmail: RateLimiter };
  /** Sign-ins by client address (the route), then per (account, address) and per account (the use case). */
  signIn: { byIp: RateLimiter; guard: SignInGuard };
}

/** Everything music-auth is built from; a test overrides one with `provideValue` before resolving `AUTH.app`. */
export const AUTH = {
  config: token<AuthConfig>('AuthConfig'),
  logger: token<Logger>('Logger'),
  models: token<Models>('Models'),
  redis: token<RedisClient>('RedisClient'),
  healthChecks: token<HealthCheck[]>('HealthChecks'),
  /** Resolved only when METRICS_ENABLED. */
  metrics: token<Metrics>('Metrics'),
  issuing: token<TokenIssuing>('TokenIssuing'),
  users: token<UserRepository>('UserRepository'),
  signUp: token<SignUpUseCase>('SignUpUseCase'),
  signIn: token<SignInUseCase>('SignInUseCase'),
  limits: token<AuthLimits>('AuthLimits'),
  app: token<Express>('AuthApp'),
};

/** music-auth's composition root: each dependency registered with the factory that builds it. */
export function authContainer(deps: AuthDeps): DependencyContainer {
  const c = createContainer();
  provideValue(c, AUTH.config, deps.config);
  provideValue(c, AUTH.logger, deps.logger);
  provideValue(c, AUTH.models, deps.models);
  provideValue(c, AUTH.redis, deps.redis);
  provideValue(c, AUTH.healthChecks, deps.healthChecks);
  provideFactory(c, AUTH.metrics, () => deps.metrics ?? createMetrics({ service: 'music-auth' }));

  provideFactory(c, AUTH.issuing, (c) => {
    const issuing = tokenIssuingFrom(resolve(c, AUTH.config));
    if (issuing.development) resolve(c, AUTH.logger).warn('signing tokens with the development key pair: set JWT_PRIVATE_KEY here and JWT_PUBLIC_KEYS on the other apps (production refuses to start without them)');
    return issuing;
  });
  provideFactory(c, AUTH.users, (c) => new UserRepository(resolve(c, AUTH.models)));
  provideFactory(c, AUTH.signUp, (c) => new SignUpUseCase({ users: resolve(c, AUTH.users), bcryptCost: resolve(c, AUTH.config).BCRYPT_COST, perEmail: resolve(c, AUTH.limits).signUp.byEmail }));
  provideFactory(
    c,
    AUTH.signIn,
    (c) => new SignInUseCase({ users: resolve(c, AUTH.users), issuing: resolve(c, AUTH.issuing), bcryptCost: resolve(c, AUTH.config).BCRYPT_COST, guard: resolve(c, AUTH.limits).signIn.guard }),
  );
  provideFactory(c, AUTH.limits, (c): AuthLimits => {
    const config = resolve(c, AUTH.config);
    const redis = resolve(c, AUTH.redis);
    const logger = resolve(c, AUTH.logger);
    const perMinute = (prefix: string, limit: number, setting: string) => createRateLimiter({ redis, logger, prefix, limit, windowSeconds: 60, setting });
    return {
      signUp: {
        byIp: perMinute(`${config.AUTH_RATE_LIMIT_PREFIX}:sign-up:ip`, config.AUTH_RATE_LIMIT_PER_MINUTE, 'AUTH_RATE_LIMIT_PER_MINUTE'),
        byEmail: perMinute(`${config.AUTH_RATE_LIMIT_PREFIX}:sign-up:email`, config.AUTH_EMAIL_RATE_LIMIT_PER_MINUTE, 'AUTH_EMAIL_RATE_LIMIT_PER_MINUTE'),
      },
      signIn: {
        byIp: perMinute(`${config.AUTH_RATE_LIMIT_PREFIX}:sign-in:ip`, config.AUTH_RATE_LIMIT_PER_MINUTE, 'AUTH_RATE_LIMIT_PER_MINUTE'),
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
    };
  });
  provideFactory(c, AUTH.app, (c) => {
    const config = resolve(c, AUTH.config);
    const limits = resolve(c, AUTH.limits);
    const routes = authRoutes({
      signUp: resolve(c, AUTH.signUp),
      signIn: resolve(c, AUTH.signIn),
      perAddress: { signUp: limits.signUp.byIp, signIn: limits.signIn.byIp },
      verification: resolve(c, AUTH.issuing).verification,
    });
    return createHttpApp({
      logger: resolve(c, AUTH.logger),
      healthChecks: resolve(c, AUTH.healthChecks),
      ...serviceAppOptions(config, {
        service: 'music-auth',
        description: 'Users of music-sync: sign-up, sign-in and the access tokens every other API asks for (POST /auth/sign-up, POST /auth/sign-in).',
        apiDocument: authApiDocument,
        metrics: () => resolve(c, AUTH.metrics),
      }),
      routes: (app) => app.use(routes),
    });
  });
  return c;
}
