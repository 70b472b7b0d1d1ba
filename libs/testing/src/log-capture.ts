import { Writable } from 'node:stream';
import winston from 'winston';
import type { Logger } from '@music/platform';

/** Sends a logger's lines (with its own formats) to `onLine` instead of the console. */
function redirect(logger: Logger, onLine: (line: string) => void): void {
  logger.clear();
  logger.add(
    new winston.transports.Stream({
      stream: new Writable({
        write(chunk: Buffer, _encoding, done) {
          onLine(chunk.toString());
          done();
        },
      }),
    }),
  );
}

/** The logger's lines as written, collected in the returned array instead of the console. */
export function captureLog(logger: Logger): string[] {
  const lines: string[] = [];
  redirect(logger, (line) => lines.push(line));
  return lines;
}

/** The lines of a JSON-format logger, parsed, collected in `lines` (a new array when omitted). */
export function captureJsonLog(logger: Logger, lines: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  redirect(logger, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  return lines;
}
