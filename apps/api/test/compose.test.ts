import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { describeWithTool } from './tools.js';

// The README's compose steps, run for real: copy the env file it names into a copy of the
// project, fill in the secrets, and ask docker-compose what each service would get.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SECRETS = {
  JWT_SECRET: 'compose-test-secret-of-more-than-32-bytes',
  POSTGRES_PASSWORD: 'pgpass123',
  REDIS_PASSWORD: 'redispass123',
};

interface Service {
  environment?: Record<string, string>;
  ports?: ({ published: number | string; target: number; host_ip?: string } | string)[];
  command?: string[];
  user?: string;
  cap_add?: string[];
}

const dirs: string[] = [];

/** A copy of the compose files and deploy/ with `envFile` as .env (plus `extra` lines). */
function project(envFile: string, extra: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'livestat-compose-'));
  dirs.push(dir);
  for (const file of ['docker-compose.yml', 'docker-compose.agent.yml', 'Dockerfile']) {
    copyFileSync(join(ROOT, file), join(dir, file));
  }
  cpSync(join(ROOT, 'deploy'), join(dir, 'deploy'), { recursive: true });
  let env = readFileSync(join(ROOT, envFile), 'utf8');
  // As a user does: fill in the blanks the file leaves (a later line would not override one).
  for (const [name, value] of Object.entries(extra)) {
    const line = new RegExp(`^${name}=.*$`, 'm');
    env = line.test(env) ? env.replace(line, `${name}=${value}`) : `${env}\n${name}=${value}\n`;
  }
  writeFileSync(join(dir, '.env'), env);
  return dir;
}

/** `docker-compose config`, resolved, as JSON (docker-compose v1 prints YAML: PyYAML reads it). */
function resolved(dir: string, files: string[] = ['docker-compose.yml']) {
  const yaml = execFileSync('docker-compose', [...files.flatMap((f) => ['-f', f]), 'config'], {
    cwd: dir,
    // Nothing from this process' environment: only the project's .env decides.
    env: { PATH: process.env.PATH, HOME: dir },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const json = execFileSync(
    'python3',
    ['-c', 'import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'],
    { input: yaml, encoding: 'utf8' },
  );
  return JSON.parse(json) as { services: Record<string, Service> };
}

function configError(dir: string, files: string[] = ['docker-compose.yml']): string {
  try {
    resolved(dir, files);
  } catch (err) {
    return String((err as { stderr?: string }).stderr);
  }
  throw new Error('expected docker-compose config to fail');
}

function published(service: Service): string[] {
  return (service.ports ?? []).map((port) =>
    typeof port === 'string'
      ? port.replace(/\/tcp$/, '')
      : `${port.host_ip ? `${port.host_ip}:` : ''}${port.published}:${port.target}`,
  );
}

describeWithTool('docker-compose', 'the compose deployment as the README sets it up', () => {
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('cp deploy/compose.env.example .env: one trusted proxy hop and the dashboard origin on every replica', () => {
    const { services } = resolved(project('deploy/compose.env.example', SECRETS));
    for (const name of ['api', 'api-2']) {
      expect(services[name]?.environment, name).toMatchObject({
        TRUST_PROXY: '1',
        CORS_ORIGINS: 'http://localhost:8080',
        NODE_ENV: 'production',
        REDIS_URL: 'redis://:redispass123@redis:6379/0',
      });
    }
    expect(published(services.web!)).toEqual(['8080:80']);
    // Agents' ports, on this machine only until LIVESTAT_LISTEN says otherwise.
    expect(published(services.postgres!)).toEqual(['127.0.0.1:5432:5432']);
    expect(published(services.redis!)).toEqual(['127.0.0.1:6379:6379']);
    // The password reaches redis-server from its own environment, not from the command line.
    expect(services.redis?.environment).toEqual({ REDIS_PASSWORD: 'redispass123' });
    expect(services.redis?.command?.join(' ')).toMatch(/--requirepass "\$\$?REDIS_PASSWORD"/);
  });

  it('a development .env (cp .env.example .env) cannot change the topology', () => {
    const dir = project('.env.example', {
      ...SECRETS,
      TRUST_PROXY: 'true',
      CORS_ORIGINS: 'http://evil.example',
    });
    const { services } = resolved(dir);
    for (const name of ['api', 'api-2']) {
      expect(services[name]?.environment, name).toMatchObject({
        TRUST_PROXY: '1',
        CORS_ORIGINS: 'http://localhost:8080',
        HOST: '0.0.0.0',
        PORT: '8000',
      });
    }
    // .env.example's WEB_PORT is the Vite dev server's: compose publishes its own.
    expect(published(services.web!)).toEqual(['8080:80']);
  });

  it('refuses to start without the secrets, naming the one missing', () => {
    const dir = project('deploy/compose.env.example', {});
    expect(configError(dir)).toMatch(/JWT_SECRET|POSTGRES_PASSWORD|REDIS_PASSWORD/);
  });

  it('docker-compose.agent.yml needs no JWT_SECRET, and names what it does need', () => {
    const dir = project('deploy/agent.env.example', { METRICS_HOST_NAME: 'web-7' });
    const { services } = resolved(dir, ['docker-compose.agent.yml']);
    expect(Object.keys(services)).toEqual(['agent']);
    expect(services.agent?.environment).toMatchObject({
      ROLE: 'agent',
      METRICS_HOST_NAME: 'web-7',
      REDIS_URL: 'redis://:PASSWORD@central.example:6379/0',
    });
    expect(services.agent?.environment).not.toHaveProperty('JWT_SECRET');
    expect(
      configError(project('deploy/agent.env.example', {}), ['docker-compose.agent.yml']),
    ).toMatch(/METRICS_HOST_NAME/);
  });

  it('perf is an opt-in override: root with CAP_PERFMON for the sampling service only', () => {
    const api = resolved(project('deploy/compose.env.example', SECRETS), [
      'docker-compose.yml',
      'deploy/perf.api.yml',
    ]).services;
    expect(api.api).toMatchObject({ user: 'root', cap_add: ['PERFMON'] });
    expect(api['api-2']).toMatchObject({ user: 'node' });
    expect(api['api-2']?.cap_add).toBeUndefined();
    const agent = resolved(project('deploy/agent.env.example', { METRICS_HOST_NAME: 'h' }), [
      'docker-compose.agent.yml',
      'deploy/perf.agent.yml',
    ]).services;
    expect(agent.agent).toMatchObject({ user: 'root', cap_add: ['PERFMON'] });
  });
});
