/**
 * Expected failures carry one of these codes. The HTTP layer maps each to a status in one switch;
 * adding a code without a status does not compile.
 */
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  /** The organization (or every polling entry asked for) is paused: resume it first. */
  | 'SYNC_PAUSED'
  | 'RATE_LIMITED'
  | 'QUOTA_EXCEEDED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL';

/** One offending field: its path (e.g. `mappings.album.type`) and why. */
export interface ErrorDetail {
  path: string;
  message: string;
}

/** The limit a RATE_LIMITED or QUOTA_EXCEEDED answer ran into: its setting and value. */
export interface LimitInfo {
  /** The setting that holds it, e.g. `QUOTA_ORGANIZATIONS_PER_USER`. */
  name: string;
  value: number;
}

/** A domain error: what use-cases return inside `Result.err`. */
export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    /** Seconds a client should wait (RATE_LIMITED, QUOTA_EXCEEDED). */
    readonly retryAfterSeconds?: number,
    /** The limit that was reached (RATE_LIMITED, QUOTA_EXCEEDED). */
    readonly limit?: LimitInfo,
  ) {
    super(message);
  }
}

/** A per-account quota reached: 429, naming the setting and its value. */
export const quotaExceeded = (message: string, limit: LimitInfo, retryAfterSeconds?: number): AppError =>
  new AppError('QUOTA_EXCEEDED', message, undefined, retryAfterSeconds, limit);

export const notFound = (what: string): AppError => new AppError('NOT_FOUND', `${what} not found`);
export const conflict = (message: string): AppError => new AppError('CONFLICT', message);
export const validationFailed = (details: ErrorDetail[], message = 'Request validation failed'): AppError =>
  new AppError('VALIDATION_FAILED', message, details);

export function statusForCode(code: ErrorCode): number {
  switch (code) {
    case 'VALIDATION_FAILED':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
    case 'SYNC_PAUSED':
      return 409;
    case 'PAYLOAD_TOO_LARGE':
      return 413;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'RATE_LIMITED':
    case 'QUOTA_EXCEEDED':
      return 429;
    case 'SERVICE_UNAVAILABLE':
      return 503;
    case 'INTERNAL':
      return 500;
    default: {
      const unreachable: never = code;
      throw new Error(`unmapped error code ${String(unreachable)}`);
    }
  }
}

/** The JSON envelope every error response has. */
export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; details?: ErrorDetail[]; limit?: LimitInfo; errorId?: string };
}

export function toEnvelope(error: AppError, errorId?: string): ErrorEnvelope {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details && error.details.length > 0 ? { details: error.details } : {}),
      ...(error.limit ? { limit: error.limit } : {}),
      ...(errorId ? { errorId } : {}),
    },
  };
}
