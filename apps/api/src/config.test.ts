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
  it('applies the README defaults to an empty environment', () => {
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
      collectors: [
        'cpu',
        'memory',
        'network',
        'disk',
        'perf',
        'bandwidth',
        'processes',
        'pressure',
        'cgroups',
      ],
      procRoot: '/proc',
      sysRoot: '/sys',
      retentionDays: 7,
      processIdleEveryTicks: 4,
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
    expect(loadConfig({ PROCESS_IDLE_EVERY_TICKS: '1' }).processIdleEveryTicks).toBe(1);
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
      'COLLECTORS each must be one of cpu, memory, network, disk, perf, bandwidth, processes, pressure, cgroups',
    ],
    ['CGROUPS_MAX', '0', 'CGROUPS_MAX must be between 1 and 100000'],
    ['PROCESS_IDLE_EVERY_TICKS', '0', 'PROCESS_IDLE_EVERY_TICKS must be between 1 and 60'],
    ['PROCESS_IDLE_EVERY_TICKS', '2.5', 'PROCESS_IDLE_EVERY_TICKS must be a whole number'],
    [
      'DOCKER_HOST',
      'docker.sock',
      'DOCKER_HOST must be unix:///path/to/docker.sock or tcp://host:port',
    ],
    ['CORS_ORIGINS', 'http://localhost:5173/', 'CORS_ORIGINS each entry must be an origin'],
    ['JWT_TTL', '12 hours', 'JWT_TTL must be a duration'],
    ['LOG_LEVEL', 'verbose', 'LOG_LEVEL'],
    ['ROLE', 'worker', 'ROLE'],
    ['REDIS_URL', 'localhost:6379', 'REDIS_URL must be a URL starting with redis:// or rediss://'],
    [
      'PUBLIC_URL',
      'livestat.example.com',
      'PUBLIC_URL must be a URL starting with http:// or https://',
    ],
    ['ALERTS', 'maybe', 'ALERTS'],
    [
      'ALERTS_RATE_LIMIT_PER_MINUTE',
      '0',
      'ALERTS_RATE_LIMIT_PER_MINUTE must be between 1 and 10000',
    ],
    ['ALERTS_LEASE_SECONDS', '120', 'ALERTS_LEASE_SECONDS must be between 1 and 60'],
  ])('rejects %s=%s naming the variable', (name, value, expected) => {
    const error = configError({ [name]: value });
    expect(error.message).toContain(expected);
    expect(error.issues).toHaveLength(1);
  });

  it('reads the alert settings, a trailing slash off PUBLIC_URL', () => {
    const config = loadConfig({
      PUBLIC_URL: 'https://livestat.example.com/',
      ALERTS_RETRY_BASE_SECONDS: '0.5',
      ALERTS_RETRY_MAX_SECONDS: '60',
      ALERTS: 'off',
    });
    expect(config).toMatchObject({
      publicUrl: 'https://livestat.example.com',
      alertsRetryBaseMs: 500,
      alertsRetryMaxMs: 60_000,
      alertsEnabled: false,
      alertsRateLimitPerMinute: 20,
      alertsLeaseMs: 10_000,
    });
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

  it('requires DATABASE_URL and REDIS_URL for ROLE=agent, naming each missing one', () => {
    const both = configError({ ROLE: 'agent' });
    expect(both.issues).toEqual([
      expect.stringContaining('DATABASE_URL is required when ROLE=agent'),
      expect.stringContaining('REDIS_URL is required when ROLE=agent'),
    ]);
    expect(configError({ ROLE: 'agent', DATABASE_URL: 'postgres://db/livestat' }).issues).toEqual([
      expect.stringContaining('REDIS_URL is required when ROLE=agent'),
    ]);
    // Reported together with any other bad variable, not after it is fixed.
    expect(configError({ ROLE: 'agent', REDIS_URL: 'redis://r', PORT: 'x' }).issues).toEqual([
      expect.stringContaining('PORT must be a number'),
      expect.stringContaining('DATABASE_URL is required when ROLE=agent'),
    ]);
    const agent = loadConfig({
      ROLE: 'agent',
      DATABASE_URL: 'postgres://db/livestat',
      REDIS_URL: 'redis://r:6379',
    });
    expect(agent).toMatchObject({
      role: 'agent',
      databaseUrl: 'postgres://db/livestat',
      redisUrl: 'redis://r:6379',
    });
  });

  it('needs no JWT_SECRET for an agent in production: it signs nothing', () => {
    const env = {
      NODE_ENV: 'production',
      ROLE: 'agent',
      DATABASE_URL: 'postgres://db/livestat',
      REDIS_URL: 'redis://r:6379',
    };
    expect(loadConfig(env).jwtSecret).toBeUndefined();
  });

  it('takes an optional METRICS_TOKEN of at least 16 characters, never echoing it', () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: 'scrape-token-0123456789' }).metricsToken).toBe(
      'scrape-token-0123456789',
    );
    const error = configError({ METRICS_TOKEN: 'tiny-s3cret' });
    expect(error.issues).toEqual(['METRICS_TOKEN must be at least 16 characters']);
    expect(error.message).not.toContain('tiny-s3cret');
  });

  it('samples by default; SAMPLING=off serves only, and needs Redis and the api role', () => {
    expect(loadConfig({}).sampling).toBe(true);
    expect(loadConfig({ SAMPLING: 'off', REDIS_URL: 'redis://r:6379' }).sampling).toBe(false);
    expect(configError({ SAMPLING: 'off' }).issues).toEqual([
      'REDIS_URL is required when SAMPLING=off (the stream must come from other processes over Redis)',
    ]);
    expect(
      configError({
        SAMPLING: 'off',
        ROLE: 'agent',
        REDIS_URL: 'redis://r:6379',
        DATABASE_URL: 'postgres://d/db',
      }).issues,
    ).toEqual(['SAMPLING=off makes no sense with ROLE=agent, which only samples']);
    expect(configError({ SAMPLING: 'maybe' }).issues[0]).toMatch(/^SAMPLING /);
  });

  it('reads TRUST_PROXY in the forms Express knows, and names it otherwise', () => {
    expect(loadConfig({}).trustProxy).toEqual(['loopback']);
    expect(loadConfig({ TRUST_PROXY: 'uniquelocal' }).trustProxy).toEqual(['uniquelocal']);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8, fd00::/8' }).trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::/8',
    ]);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    for (const bad of ['nginx', '10.0.0.0/33', '300.1.1.1', 'loopback,,']) {
      expect(configError({ TRUST_PROXY: bad }).issues[0], bad).toMatch(
        /^TRUST_PROXY must be true, false, a number of hops/,
      );
    }
  });
});

describe('REDIS_PREFIX', () => {
  it('defaults to the database number in REDIS_URL, so deployments on different databases stay apart', () => {
    expect(loadConfig({}).redisPrefix).toBe('livestat:db0:');
    expect(loadConfig({ REDIS_URL: 'redis://r:6379' }).redisPrefix).toBe('livestat:db0:');
    expect(loadConfig({ REDIS_URL: 'redis://:pw@r:6379/3' }).redisPrefix).toBe('livestat:db3:');
    expect(loadConfig({ REDIS_URL: 'rediss://r/12' }).redisPrefix).toBe('livestat:db12:');
  });

  it('takes an explicit prefix, and refuses one with spaces or glob characters', () => {
    expect(loadConfig({ REDIS_PREFIX: 'site-b:' }).redisPrefix).toBe('site-b:');
    expect(configError({ REDIS_PREFIX: 'a b*' }).issues[0]).toMatch(/^REDIS_PREFIX must be 1-64/);
  });
});
