import mongoose, { type Connection } from 'mongoose';
import type { Logger } from './logger';
import type { HealthCheck } from './health';

export interface MongoOptions {
  url: string;
  dbName: string;
  logger: Logger;
  /** The driver's command monitoring (commandStarted events), for tests and benchmarks that count store commands. */
  monitorCommands?: boolean;
}

/**
 * Opens a mongoose connection (models are registered on it, never on the global mongoose, so a
 * test can hold several). The driver reconnects by itself; state changes are logged.
 */
export async function connectMongo(options: MongoOptions): Promise<Connection> {
  const connection = mongoose.createConnection(options.url, {
    dbName: options.dbName,
    serverSelectionTimeoutMS: 5000,
    heartbeatFrequencyMS: 2000,
    maxPoolSize: 20,
    // FerretDB has no retryable writes (no sessions); real MongoDB accepts this setting too.
    retryWrites: false,
    autoIndex: true,
    ...(options.monitorCommands ? { monitorCommands: true } : {}),
  });
  connection.on('disconnected', () => options.logger.warn('mongo disconnected'));
  connection.on('reconnected', () => options.logger.info('mongo reconnected'));
  connection.on('error', (e: Error) => options.logger.error('mongo error', { err: e.message }));
  await connection.asPromise();
  options.logger.info('mongo connected', { dbName: options.dbName });
  return connection;
}

export function mongoHealthCheck(connection: Connection): HealthCheck {
  return {
    name: 'mongo',
    check: async () => {
      const db = connection.db;
      if (!db) throw new Error('not connected');
      await db.command({ ping: 1 });
    },
  };
}
