import winston from 'winston';
import { currentContext } from './request-context';
import { maskUrlsIn } from './url-mask';

export type Logger = winston.Logger;

export interface LoggerOptions {
  service: string;
  level?: string;
  /** `pretty` for people at a terminal, `json` (default) for machines. */
  format?: 'json' | 'pretty';
  silent?: boolean;
}

// Keys whose values never reach a log line, wherever they appear in the metadata (nested objects,
// arrays and errors included): `password`, `passwordHash`, `clientSecret`, `accessToken`,
// `Authorization`, `x-api-key`, `cookie`... URLs in any text have their credentials masked.
const SECRET_KEY = /password|secret|token|authorization|cookie|jwt|api[-_]?key/i;
const REDACTED = '[redacted]';
const MAX_REDACT_DEPTH = 10;

/** A copy of `value` with secret-named keys replaced; the caller's objects are left untouched. */
function redactValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  // URLs anywhere in a text (an error naming the endpoint it called) lose their credentials.
  if (typeof value === 'string') return maskUrlsIn(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth > MAX_REDACT_DEPTH) return '[too deep]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1, seen));
    const isError = value instanceof Error;
    const isPlain = Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null;
    // Dates, Buffers, ObjectIds... serialize themselves and hold no named secrets.
    if (!isError && !isPlain) return value;
    const copy: Record<string, unknown> = {};
    // An Error's message and stack are not enumerable; keep them (server-side detail).
    if (isError) Object.assign(copy, { name: value.name, message: maskUrlsIn(value.message), stack: value.stack && maskUrlsIn(value.stack) });
    for (const [key, v] of Object.entries(value)) copy[key] = SECRET_KEY.test(key) ? REDACTED : redactValue(v, depth + 1, seen);
    return copy;
  } finally {
    seen.delete(value);
  }
}

const redact = winston.format((info) => {
  const seen = new WeakSet<object>([info]);
  if (typeof info.message === 'string') info.message = maskUrlsIn(info.message);
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'message') continue;
    info[key] = SECRET_KEY.test(key) ? REDACTED : redactValue(info[key], 1, seen);
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
