import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Connection } from 'mongoose';
import { listenHost, type BaseConfig } from './config';
import { createLogger, type Logger } from './logger';
import { createMetrics, type Metrics } from './metrics';
import { connectMongo, mongoHealthCheck } from './mongo';
import { createRedis, redisHealthCheck, type RedisClient } from './redis';
import type { HealthCheck } from './health';
import { closeServer, handleShutdown, listen, type ShutdownStep } from './lifecycle';

/** What a service holds once started: its config, logger and store connections. */
export interface ServiceRuntime<C extends BaseConfig = BaseConfig> {
  service: string;
  config: C;
  logger: Logger;
  mongo: Connection;
  /** A fail-fast client for request paths (producers). */
  redis: RedisClient;
  healthChecks: HealthCheck[];
  /** The app's Prometheus registry (with process metrics); undefined when METRICS_ENABLED is false. */
  metrics: Metrics | undefined;
}

export function loggerFor(service: string, config: BaseConfig): Logger {
  return createLogger({
    service,
    level: config.LOG_LEVEL,
    format: config.LOG_FORMAT ?? (config.NODE_ENV === 'production' ? 'json' : 'pretty'),
  });
}

/** Connects to MongoDB and Redis; readiness checks both. */
export async function openRuntime<C extends BaseConfig>(service: string, config: C, logger = loggerFor(service, config)): Promise<ServiceRuntime<C>> {
  const mongo = await connectMongo({ url: config.MONGO_URL, dbName: config.MONGO_DB, logger }).catch((error: unknown) => {
    // The start-up error is one line: name the setting to fix, not only the driver's words.
    throw new Error(`cannot reach the store at MONGO_URL=${redactUrl(config.MONGO_URL)} (${(error as Error).message}): start MongoDB there, or set MONGO_URL`);
  });
  const redis = createRedis(config, 'producer', logger);
  const metrics = config.METRICS_ENABLED ? createMetrics({ service, processMetrics: true }) : undefined;
  return { service, config, logger, mongo, redis, healthChecks: [mongoHealthCheck(mongo), redisHealthCheck(redis)], metrics };
}

/** A URL with any password replaced, fit for a log line or an error message. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}

/**
 * Listens on `port` and installs graceful shutdown: the HTTP server first, then `steps` (workers,
 * queues), then Redis and mongoose.
 */
export async function serveRuntime(runtime: ServiceRuntime, app: Express, port: number, steps: ShutdownStep[] = []): Promise<Server> {
  const host = listenHost(runtime.config);
  const server = await listen(app, port, host, runtime.config.HTTP_REQUEST_TIMEOUT_MS);
  runtime.logger.info(`${runtime.service} listening`, { port, host: host ?? 'all interfaces' });
  handleShutdown(runtime.logger, [
    { name: 'http', close: () => closeServer(server) },
    ...steps,
    { name: 'redis', close: () => runtime.redis.quit() },
    { name: 'mongo', close: () => runtime.mongo.close() },
  ]);
  return server;
}
