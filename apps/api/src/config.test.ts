import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_DATA_DIR, loadConfig } from './config.js';

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the SPEC defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      nodeEnv: 'development',
      role: 'api',
      port: 8000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      redisUrl: undefined,
      dataDir: DEFAULT_DATA_DIR,
      jwtTtlSeconds: 12 * 3600,
      adminUsername: 'admin',
      samplingIntervalMs: 1000,
      batchSize: 10,
      flushIntervalMs: 30_000,
      maxBufferedSnapshots: 10_000,
      heartbeatIntervalMs: 30_000,
      wsMaxBufferedBytes: 1024 * 1024,
      collectors: ['cpu', 'memory', 'network', 'disk', 'perf', 'bandwidth'],
      procRoot: '/proc',
      sysRoot: '/sys',
      retentionDays: 7,
      logLevel: 'info',
    });
    expect(DEFAULT_DATA_DIR.endsWith('/.data')).toBe(true);
    expect(config.hostName.length).toBeGreaterThan(0);
  });

  it('parses every variable it is given', () => {
    const config = loadConfig({
      PORT: '9001',
      SAMPLING_INTERVAL_SECONDS: '0.5',
      COLLECTORS: 'cpu, memory,cpu',
      CORS_ORIGINS: 'http://localhost:5173,https://dash.example.com',
      JWT_TTL: '30m',
      JWT_SECRET: 'x'.repeat(32),
      METRICS_HOST_NAME: 'web-1',
      FLUSH_INTERVAL_SECONDS: '5',
    });
    expect(config.port).toBe(9001);
    expect(config.samplingIntervalMs).toBe(500);
    expect(config.collectors).toEqual(['cpu', 'memory']);
    expect(config.corsOrigins).toEqual(['http://localhost:5173', 'https://dash.example.com']);
    expect(config.jwtTtlSeconds).toBe(1800);
    expect(config.hostName).toBe('web-1');
    expect(config.flushIntervalMs).toBe(5000);
    expect(loadConfig({ SAMPLING_INTERVAL_SECONDS: '5' }).samplingIntervalMs).toBe(5000);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '  ' }).port).toBe(8000);
  });

  it.each([
    ['PORT', 'eighty', 'PORT must be a number'],
    ['PORT', '70000', 'PORT must be between 0 and 65535'],
    ['SAMPLING_INTERVAL_SECONDS', '0', 'SAMPLING_INTERVAL_SECONDS must be between 0.1 and 3600'],
    ['BATCH_SIZE', '2.5', 'BATCH_SIZE must be a whole number'],
    [
      'COLLECTORS',
      'cpu,gpu',
      'COLLECTORS each must be one of cpu, memory, network, disk, perf, bandwidth',
    ],
    ['CORS_ORIGINS', 'http://localhost:5173/', 'CORS_ORIGINS each entry must be an origin'],
    ['JWT_TTL', '12 hours', 'JWT_TTL must be a duration'],
    ['LOG_LEVEL', 'verbose', 'LOG_LEVEL'],
    ['ROLE', 'worker', 'ROLE'],
    ['REDIS_URL', 'localhost:6379', 'REDIS_URL must be a URL starting with redis:// or rediss://'],
  ])('rejects %s=%s naming the variable', (name, value, expected) => {
    const error = configError({ [name]: value });
    expect(error.message).toContain(expected);
    expect(error.issues).toHaveLength(1);
  });

  it('lists every bad variable at once', () => {
    expect(configError({ PORT: 'x', BATCH_SIZE: '0' }).issues).toHaveLength(2);
  });

  it('never echoes a secret value in the message', () => {
    const error = configError({
      DATABASE_URL: 'mysql://user:hunter2@db/x',
      JWT_SECRET: 'short-secret',
    });
    expect(error.message).toContain('DATABASE_URL must be a URL');
    expect(error.message).toContain('JWT_SECRET must be at least 32 bytes');
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('short-secret');
  });

  it('requires a JWT_SECRET in production', () => {
    expect(configError({ NODE_ENV: 'production' }).message).toContain(
      'JWT_SECRET is required when NODE_ENV=production',
    );
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(48) }).nodeEnv).toBe(
      'production',
    );
  });
});
