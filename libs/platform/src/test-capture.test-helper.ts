import { Writable } from 'node:stream';
import winston from 'winston';
import { ConfigError } from './config';
import type { Logger } from './logger';

/** Sends a logger's lines (with its own formats) to the returned array instead of the console. */
export function captureLines(logger: Logger): string[] {
  const output: string[] = [];
  logger.clear();
  logger.add(
    new winston.transports.Stream({
      stream: new Writable({
        write(chunk: Buffer, _encoding, done) {
          output.push(chunk.toString());
          done();
        },
      }),
    }),
  );
  return output;
}

/** The message of the ConfigError `run` throws (any other outcome fails the test). */
export function configError(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('expected a ConfigError');
}
