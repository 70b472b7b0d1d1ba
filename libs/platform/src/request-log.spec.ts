import { Router } from 'express';
import request from 'supertest';
import { baseEnvSchema } from './config';
import { createHttpApp } from './http-app';
import { addToContext, withContext } from './request-context';
import { loggerFor } from './runtime';
import { captureLog as capture } from '@music/testing';

const configWith = (env: Record<string, string>) => baseEnvSchema.parse(env);

describe('request log lines', () => {
  it('carry the request id and the org id a route resolved, on every line of the request including the closing one', async () => {
    const logger = loggerFor('spec', configWith({ LOG_LEVEL: 'http', LOG_FORMAT: 'json' }));
    const output = capture(logger);
    const orgs = Router();
    orgs.get('/:id', async (req, res) => {
      addToContext({ orgId: String(req.params['id']) });
      await new Promise((r) => setTimeout(r, 5));
      logger.info('looked the organization up');
      res.json({});
    });
    const app = createHttpApp({ logger, routes: (a) => a.use('/organization', orgs) });

    await request(app).get('/organization/org-42').set('x-request-id', 'req-abc');
    const lines = output.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({ message: 'looked the organization up', requestId: 'req-abc', orgId: 'org-42', service: 'spec' }),
      // The full path, not the mount-relative one the router saw.
      expect.objectContaining({ message: 'request', requestId: 'req-abc', orgId: 'org-42', path: '/organization/org-42', status: 200, level: 'http' }),
    ]);
  });

  it('do not leak one request’s org id into another request', async () => {
    const logger = loggerFor('spec', configWith({ LOG_LEVEL: 'http', LOG_FORMAT: 'json' }));
    const output = capture(logger);
    const app = createHttpApp({
      logger,
      routes: (a) => {
        a.get('/org/:id', (req, res) => {
          addToContext({ orgId: String(req.params['id']) });
          res.json({});
        });
        a.get('/plain', (_req, res) => void res.json({}));
      },
    });
    await Promise.all([request(app).get('/org/o1'), request(app).get('/plain'), request(app).get('/org/o2')]);
    const lines = output.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l['path'] === '/plain')).not.toHaveProperty('orgId');
    expect(lines.find((l) => l['path'] === '/org/o1')).toMatchObject({ orgId: 'o1' });
    expect(lines.find((l) => l['path'] === '/org/o2')).toMatchObject({ orgId: 'o2' });
  });
});

describe('loggerFor (LOG_LEVEL, LOG_FORMAT, NODE_ENV)', () => {
  it('writes JSON in production, one object per line with the context ids', () => {
    const logger = loggerFor('music-x', configWith({ NODE_ENV: 'production' }));
    const output = capture(logger);
    withContext({ orgId: 'o1', jobId: 'j1', deliveryId: 'd1' }, () => logger.info('delivered', { status: 200 }));
    expect(JSON.parse(output[0] ?? '')).toMatchObject({ level: 'info', message: 'delivered', service: 'music-x', orgId: 'o1', jobId: 'j1', deliveryId: 'd1', status: 200 });
  });

  it('writes one readable line in development', () => {
    const logger = loggerFor('music-x', configWith({ NODE_ENV: 'development' }));
    const output = capture(logger);
    withContext({ orgId: 'o1' }, () => logger.warn('delivery attempt failed', { attempt: 2 }));
    const line = output[0] ?? '';
    expect(() => JSON.parse(line)).toThrow();
    expect(line).toMatch(/ warn +\[music-x\] delivery attempt failed \{/);
    expect(line).toContain('"orgId":"o1"');
    expect(line).toContain('"attempt":2');
  });

  it('lets LOG_FORMAT override the default and LOG_LEVEL drop lines below it', () => {
    const logger = loggerFor('music-x', configWith({ NODE_ENV: 'development', LOG_FORMAT: 'json', LOG_LEVEL: 'warn' }));
    const output = capture(logger);
    logger.info('not shown');
    logger.http('not shown either');
    logger.warn('shown');
    expect(output.map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['shown']);
    const verbose = loggerFor('music-x', configWith({ LOG_LEVEL: 'debug', LOG_FORMAT: 'json' }));
    const verboseOutput = capture(verbose);
    verbose.debug('shown at debug');
    expect(verboseOutput).toHaveLength(1);
  });
});
