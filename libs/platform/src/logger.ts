import winston from 'winston';
import { currentContext } from './request-context';

export type Logger = winston.Logger;

export interface LoggerOptions {
  service: string;
  level?: string;
  /** `pretty` for people at a terminal, `json` (default) for machines. */
  format?: 'json' | 'pretty';
  silent?: boolean;
}

// Keys whose values never reach a log line, wherever they appear in the metadata.
const SECRET_KEYS = /^(password|passwordHash|secret|token|authorization|jwt|webhookSecret)$/i;

const redact = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (SECRET_KEYS.test(key)) info[key] = '[redacted]';
  }
  return info;
});

const context = winston.format((info) => Object.assign(info, currentContext(), info));

/** A winston logger that stamps the service name and the current request/org/job ids on each line. */
export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.format === 'pretty';
  return winston.createLogger({
    level: options.level ?? 'info',
    silent: options.silent ?? false,
    defaultMeta: { service: options.service },
    format: winston.format.combine(
      context(),
      redact(),
      winston.format.timestamp(),
      winston.format.errors({ stack: true }),
      pretty
        ? winston.format.printf(({ timestamp, level, message, service, ...rest }) => {
            const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
            return `${String(timestamp)} ${level.padEnd(5)} [${String(service)}] ${String(message)}${extra}`;
          })
        : winston.format.json(),
    ),
    transports: [new winston.transports.Console()],
  });
}
