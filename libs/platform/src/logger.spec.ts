import type winston from 'winston';
import { createLogger, type LoggerOptions } from './logger';
import { withContext } from './request-context';
import { captureLog } from '@music/testing';

/** A logger with the real formats whose output lands in `output` instead of the console. */
function capture(options: Partial<LoggerOptions> = {}): { logger: winston.Logger; output: string[] } {
  const logger = createLogger({ service: 'logger-spec', format: 'json', ...options });
  return { logger, output: captureLog(logger) };
}

const SECRET = 'hunter2-very-secret-value';

describe('createLogger', () => {
  it.each(['json', 'pretty'] as const)('never writes a top-level password or secret (%s)', (format) => {
    const { logger, output } = capture({ format });
    logger.info('signed up', { email: 'a@b.co', password: SECRET, secret: SECRET, webhookSecret: SECRET, token: SECRET });
    const text = output.join('');
    expect(text).toContain('signed up');
    expect(text).toContain('a@b.co');
    expect(text).not.toContain(SECRET);
    expect(text).toContain('[redacted]');
  });

  it('never writes secrets nested in metadata objects or arrays', () => {
    const { logger, output } = capture();
    logger.warn('webhook rejected', {
      user: { email: 'a@b.co', password: SECRET, passwordHash: SECRET },
      webhooks: [{ url: 'http://127.0.0.1/x', secret: SECRET }],
      headers: { Authorization: `Bearer ${SECRET}`, 'x-api-key': SECRET, cookie: `sid=${SECRET}` },
      clientSecret: SECRET,
      accessToken: SECRET,
    });
    const line = output.join('');
    expect(line).not.toContain(SECRET);
    const parsed = JSON.parse(line) as { user: Record<string, unknown>; webhooks: Array<Record<string, unknown>> };
    expect(parsed.user).toEqual({ email: 'a@b.co', password: '[redacted]', passwordHash: '[redacted]' });
    expect(parsed.webhooks[0]).toEqual({ url: 'http://127.0.0.1/x', secret: '[redacted]' });
  });

  it('does not modify the caller’s objects while redacting', () => {
    const { logger } = capture();
    const user = { email: 'a@b.co', password: SECRET };
    logger.info('x', { user });
    expect(user.password).toBe(SECRET);
  });

  it('survives circular metadata', () => {
    const { logger, output } = capture();
    const node: Record<string, unknown> = { name: 'loop', secret: SECRET };
    node['self'] = node;
    logger.info('circular', { node });
    expect(output.join('')).not.toContain(SECRET);
    expect(output.join('')).toContain('circular');
  });

  it('keeps error messages and stacks of nested errors (server-side detail), redacting their secret fields', () => {
    const { logger, output } = capture();
    const err = Object.assign(new Error('mongo refused'), { password: SECRET });
    logger.error('failed', { err });
    const parsed = JSON.parse(output.join('')) as { err: { message: string; stack: string; password: string } };
    expect(parsed.err.message).toBe('mongo refused');
    expect(parsed.err.stack).toContain('mongo refused');
    expect(parsed.err.password).toBe('[redacted]');
  });

  it('stamps the service and the current request context', () => {
    const { logger, output } = capture();
    withContext({ requestId: 'r-1', orgId: 'o-1' }, () => logger.info('hello'));
    expect(JSON.parse(output.join(''))).toMatchObject({ service: 'logger-spec', requestId: 'r-1', orgId: 'o-1', level: 'info', message: 'hello' });
  });

  it('writes nothing below its level, and nothing at all when silent', () => {
    const quiet = capture({ level: 'warn' });
    quiet.logger.info('not shown');
    quiet.logger.warn('shown');
    expect(quiet.output.join('')).not.toContain('not shown');
    expect(quiet.output.join('')).toContain('shown');

    const silent = capture({ silent: true });
    silent.logger.error('nothing');
    expect(silent.output).toEqual([]);
  });
});
