import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from './logger';

function bind(app: Express, port: number, host: string, requestTimeoutMs: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(
      {
        requestTimeout: requestTimeoutMs,
        headersTimeout: Math.min(requestTimeoutMs, 60000),
        // Node enforces both timeouts only when it checks its connections, by default every 30 s:
        // a client trickling its request a byte at a time then held a socket 30 s past a 1 s
        // limit. Checking a few times per timeout keeps the limit close to what it says.
        connectionsCheckingInterval: Math.max(100, Math.min(5000, Math.floor(requestTimeoutMs / 4))),
      },
      app,
    );
    server.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        // Said as the start-up error: which port, and the setting that moves it.
        const taken = new Error(`port ${port} is already in use (another process listens there): stop it, or set PORT to a free port`) as NodeJS.ErrnoException;
        taken.code = error.code;
        return reject(taken);
      }
      reject(error);
    });
    server.listen(port, host, () => resolve(server));
  });
}

/**
 * Starts listening; resolves with the server once the port is bound (port 0 picks a free one).
 * By default on `::` (IPv4 and IPv6), since `localhost` resolves to ::1 first on many machines,
 * falling back to 0.0.0.0 where IPv6 is unavailable.
 */
export async function listen(app: Express, port: number, host?: string, requestTimeoutMs = 30000): Promise<Server> {
  if (host) return bind(app, port, host, requestTimeoutMs);
  try {
    return await bind(app, port, '::', requestTimeoutMs);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw error;
    return bind(app, port, '0.0.0.0', requestTimeoutMs);
  }
}

/** Stops accepting connections and resolves when in-flight requests have finished. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/** One step of an orderly shutdown (HTTP server, workers, queues, Redis, mongoose, in that order). */
export interface ShutdownStep {
  name: string;
  close: () => Promise<unknown>;
}

/**
 * Runs the steps in order on SIGTERM/SIGINT, then exits. A second signal, or the deadline passing,
 * exits at once.
 */
export function handleShutdown(logger: Logger, steps: ShutdownStep[], deadlineMs = 15000): void {
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info('shutting down', { signal });
    const timer = setTimeout(() => {
      logger.error('shutdown deadline passed, exiting');
      process.exit(1);
    }, deadlineMs);
    timer.unref();
    for (const step of steps) {
      try {
        await step.close();
      } catch (e) {
        logger.warn('shutdown step failed', { step: step.name, err: (e as Error).message });
      }
    }
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/** Prints a start-up failure as one line and exits non-zero. */
export function exitOnStartupError(service: string, error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${service}: ${message}\n`);
  process.exit(1);
}
