import { AppError, conflict, notFound, statusForCode, toEnvelope, validationFailed, type ErrorCode } from './errors';

describe('statusForCode', () => {
  it.each<[ErrorCode, number]>([
    ['VALIDATION_FAILED', 400],
    ['UNAUTHORIZED', 401],
    ['FORBIDDEN', 403],
    ['NOT_FOUND', 404],
    ['CONFLICT', 409],
    ['PAYLOAD_TOO_LARGE', 413],
    ['UNSUPPORTED_MEDIA_TYPE', 415],
    ['RATE_LIMITED', 429],
    ['INTERNAL', 500],
    ['SERVICE_UNAVAILABLE', 503],
  ])('maps %s to %i', (code, status) => {
    expect(statusForCode(code)).toBe(status);
  });

  it('throws for a code outside the union (a bug, not a request error)', () => {
    expect(() => statusForCode('TEAPOT' as ErrorCode)).toThrow(/unmapped error code TEAPOT/);
  });
});

describe('toEnvelope', () => {
  it('writes code and message, and details only when there are some', () => {
    expect(toEnvelope(notFound('Organization'))).toEqual({ error: { code: 'NOT_FOUND', message: 'Organization not found' } });
    expect(toEnvelope(new AppError('VALIDATION_FAILED', 'bad', []))).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'bad' } });
    expect(toEnvelope(validationFailed([{ path: 'mappings.album.type', message: 'Invalid option' }]))).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message: 'Request validation failed',
        details: [{ path: 'mappings.album.type', message: 'Invalid option' }],
      },
    });
  });

  it('adds the errorId when given', () => {
    expect(toEnvelope(new AppError('INTERNAL', 'Internal server error'), 'e-1')).toEqual({
      error: { code: 'INTERNAL', message: 'Internal server error', errorId: 'e-1' },
    });
  });

  it('never carries the stack or the retry hint', () => {
    const envelope = toEnvelope(new AppError('RATE_LIMITED', 'slow down', undefined, 30));
    expect(JSON.stringify(envelope)).not.toMatch(/stack|retryAfter|at .*\.ts/);
    expect(envelope).toEqual({ error: { code: 'RATE_LIMITED', message: 'slow down' } });
  });

  it('builds conflict errors with the given message', () => {
    expect(conflict('Email already registered')).toMatchObject({ code: 'CONFLICT', message: 'Email already registered' });
  });
});
