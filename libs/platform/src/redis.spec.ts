import { createLogger } from './logger';
import { createRedis, redisHealthCheck } from './redis';

describe('redisHealthCheck', () => {
  it('says a fail-fast client is not connected, instead of ioredis’ words about its offline queue', async () => {
    const logger = createLogger({ service: 'redis-spec', silent: true });
    // Nothing listens on port 1: the client stays disconnected and keeps retrying.
    const client = createRedis('redis://127.0.0.1:1', 'producer', logger);
    try {
      const check = redisHealthCheck(client);
      await expect(check.check()).rejects.toThrow(/^not connected \((connecting|reconnecting|connect|wait|close|end)\)$/);
      await expect(check.check()).rejects.not.toThrow(/Stream isn't writeable/);
    } finally {
      client.disconnect();
    }
  });
});
