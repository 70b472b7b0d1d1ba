import { z } from 'zod';
import { baseEnvSchema, checkSettings, ConfigError, hasHashTag, listenHost, listSetting, parseConfig, tokenVerificationEnv } from './config';

const withPort = baseEnvSchema.extend({ ...tokenVerificationEnv, PORT: z.coerce.number().int().min(0).max(65535).default(3000) });

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('fills every base setting with its default from an empty environment', () => {
    const config = parseConfig(baseEnvSchema, {});
    expect(config).toMatchObject({
      NODE_ENV: 'development',
      MONGO_URL: 'mongodb://127.0.0.1:27017/',
      MONGO_DB: 'music',
      REDIS_URL: 'redis://127.0.0.1:6379',
      OUTBOUND_ALLOW_LIST: '',
      METRICS_ENABLED: true,
    });
    expect(config.LOG_FORMAT).toBeUndefined();
  });

  it('coerces numbers and booleans from strings', () => {
    const config = parseConfig(withPort, { PORT: '4100', JWT_EXPIRES_IN_SECONDS: '60', METRICS_ENABLED: 'no' });
    expect(config.PORT).toBe(4100);
    expect(config.JWT_EXPIRES_IN_SECONDS).toBe(60);
    expect(config.METRICS_ENABLED).toBe(false);
  });

  it('names a bad setting on one line', () => {
    const error = configError(() => parseConfig(withPort, { PORT: 'eighty' }));
    expect(error.message).toMatch(/^Invalid configuration: PORT: /);
    expect(error.message).not.toContain('\n');
  });

  it('names a missing required setting', () => {
    const schema = baseEnvSchema.extend({ API_TOKEN_URL: z.string().url() });
    const error = configError(() => parseConfig(schema, {}));
    expect(error.message).toContain('API_TOKEN_URL');
    expect(error.message).not.toContain('\n');
  });

  it('names every bad setting at once, still on one line', () => {
    const error = configError(() => parseConfig(withPort, { MONGO_URL: 'http://db', REDIS_URL: 'localhost:6379', LOG_LEVEL: 'loud' }));
    expect(error.message).toContain('MONGO_URL: must be a mongodb:// URL');
    expect(error.message).toContain('REDIS_URL: must be a redis:// URL');
    expect(error.message).toContain('LOG_LEVEL');
    expect(error.message.split('\n')).toHaveLength(1);
  });

  it('binds 127.0.0.1 outside production and every interface in production, unless HTTP_HOST says otherwise', () => {
    expect(listenHost(parseConfig(baseEnvSchema, {}))).toBe('127.0.0.1');
    expect(listenHost(parseConfig(baseEnvSchema, { NODE_ENV: 'test' }))).toBe('127.0.0.1');
    expect(listenHost(parseConfig(baseEnvSchema, { NODE_ENV: 'production' }))).toBeUndefined();
    expect(listenHost(parseConfig(baseEnvSchema, { NODE_ENV: 'development', HTTP_HOST: '0.0.0.0' }))).toBe('0.0.0.0');
  });

  it('treats empty strings as unset, so defaults apply and required settings are reported missing', () => {
    const config = parseConfig(withPort, { PORT: '', MONGO_DB: '', LOG_FORMAT: '', NODE_ENV: '' });
    expect(config.PORT).toBe(3000);
    expect(config.MONGO_DB).toBe('music');
    expect(config.LOG_FORMAT).toBeUndefined();
    expect(config.NODE_ENV).toBe('development');

    const schema = baseEnvSchema.extend({ API_TOKEN_URL: z.string() });
    expect(configError(() => parseConfig(schema, { API_TOKEN_URL: '' })).message).toContain('API_TOKEN_URL');
  });

  it('ignores variables the schema does not know', () => {
    const config = parseConfig(baseEnvSchema, { PATH: '/usr/bin', HOME: '/root' }) as Record<string, unknown>;
    expect(config['PATH']).toBeUndefined();
  });
});

describe('checkSettings', () => {
  it('names every problem the checks find on one line, and lets other errors through', () => {
    const error = configError(() =>
      checkSettings(
        () => {
          throw new ConfigError('Invalid configuration: A: bad');
        },
        () => undefined,
        () => {
          throw new ConfigError('Invalid configuration: B: worse');
        },
      ),
    );
    expect(error.message).toBe('Invalid configuration: A: bad; B: worse');
    expect(() => checkSettings(() => undefined)).not.toThrow();
    expect(() =>
      checkSettings(() => {
        throw new TypeError('a bug');
      }),
    ).toThrow(TypeError);
  });
});

describe('listSetting', () => {
  it('splits on commas, trims, and drops empty entries', () => {
    expect(listSetting(' 127.0.0.1, localhost ,,::1 ')).toEqual(['127.0.0.1', 'localhost', '::1']);
    expect(listSetting('')).toEqual([]);
  });
});

describe('Redis Cluster settings', () => {
  it('connects to one server by default', () => {
    expect(parseConfig(baseEnvSchema, {}).REDIS_CLUSTER).toBe(false);
  });

  it('refuses a queue prefix without a hash tag on a Cluster, and says which one would do', () => {
    const error = configError(() => parseConfig(baseEnvSchema, { REDIS_CLUSTER: 'true', QUEUE_PREFIX: 'music' }));
    expect(error.message).toBe('Invalid configuration: QUEUE_PREFIX: must hold a hash tag such as {music} when REDIS_CLUSTER is true');
    // The default prefix has no hash tag either: a Cluster needs the prefix set.
    expect(() => parseConfig(baseEnvSchema, { REDIS_CLUSTER: 'true' })).toThrow(/QUEUE_PREFIX/);
  });

  it('accepts a hash-tagged prefix and several seed nodes on a Cluster', () => {
    const config = parseConfig(baseEnvSchema, {
      REDIS_CLUSTER: 'true',
      QUEUE_PREFIX: '{music}',
      REDIS_URL: 'redis://10.0.0.1:6379,redis://10.0.0.2:6379',
    });
    expect(config).toMatchObject({ REDIS_CLUSTER: true, QUEUE_PREFIX: '{music}' });
  });

  it('accepts several URLs only for a Cluster', () => {
    expect(configError(() => parseConfig(baseEnvSchema, { REDIS_URL: 'redis://a:6379,redis://b:6379' })).message).toMatch(/^Invalid configuration: REDIS_URL: /);
  });
});

describe('hasHashTag', () => {
  it("follows Redis' rule: the text between the first { and the next }, when not empty", () => {
    expect(hasHashTag('{music}')).toBe(true);
    expect(hasHashTag('prod:{music}')).toBe(true);
    expect(hasHashTag('{a}{b}')).toBe(true);
    expect(hasHashTag('music')).toBe(false);
    expect(hasHashTag('{}music')).toBe(false);
    expect(hasHashTag('music}{')).toBe(false);
    expect(hasHashTag('{music')).toBe(false);
  });
});
