import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { containerId, manyCgroups, writeV2Host } from '../../test/cgroup-tree.js';
import { createCgroupsCollector } from './cgroups.js';
import { createContainerNames, parseDockerHost, type ContainerNames } from './container-names.js';

const API = fileURLToPath(new URL('../../test/fixtures/docker-api/', import.meta.url));
const answer = (file: string) => readFileSync(path.join(API, file), 'utf8');
const WEB = containerId(1);
const DB = containerId(2);
const BACKUP = containerId(3);

let dir: string;
let server: http.Server | null = null;
let names: ContainerNames | null = null;
const requests: string[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'livestat-docker-'));
  requests.length = 0;
});
afterEach(async () => {
  names?.stop();
  names = null;
  if (server) await new Promise((resolve) => server!.close(resolve));
  server = null;
  await rm(dir, { recursive: true, force: true });
});

/** A real HTTP server on a unix socket, answering as the Docker engine did. */
async function engine(handler: http.RequestListener): Promise<string> {
  const socketPath = path.join(dir, 'docker.sock');
  server = http.createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    handler(request, response);
  });
  await new Promise<void>((resolve) => server!.listen(socketPath, resolve));
  return socketPath;
}

const replay: http.RequestListener = (request, response) => {
  const routes: Record<string, string> = {
    '/containers/json?all=1': 'containers.json',
    [`/containers/${WEB}/json`]: 'inspect-web.json',
    [`/containers/${DB}/json`]: 'inspect-db.json',
  };
  const file = routes[request.url ?? ''];
  if (file === undefined) {
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end('{"message":"page not found"}');
    return;
  }
  response.writeHead(200, { 'content-type': 'application/json', 'api-version': '1.43' });
  response.end(answer(file));
};

describe('parseDockerHost', () => {
  it('takes unix sockets and tcp endpoints, as Docker does', () => {
    expect(parseDockerHost('unix:///var/run/docker.sock')).toEqual({
      socketPath: '/var/run/docker.sock',
    });
    expect(parseDockerHost('unix:///run/podman/podman.sock')).toEqual({
      socketPath: '/run/podman/podman.sock',
    });
    expect(parseDockerHost('tcp://10.0.0.5:2375')).toEqual({ host: '10.0.0.5', port: 2375 });
    expect(() => parseDockerHost('docker.sock')).toThrow(RangeError);
  });
});

describe('container names from the Engine API on a unix socket', () => {
  it('maps ids to name, image, state, health and restart count, inspecting running ones only', async () => {
    names = createContainerNames({ endpoint: { socketPath: await engine(replay) } });
    await names.refresh();
    expect(names.reason()).toBeNull();
    expect(names.lookup(WEB)).toEqual({
      name: 'web',
      image: 'nginx:1.27-alpine',
      state: 'running',
      health: 'healthy',
      restartCount: 2,
    });
    expect(names.lookup(DB)).toEqual({
      name: 'shop-db-1',
      image: 'postgres:16',
      state: 'running',
      health: null,
      restartCount: 0,
    });
    expect(names.lookup(BACKUP)).toMatchObject({
      name: 'nightly-backup',
      state: 'exited',
      restartCount: null,
    });
    expect(requests).not.toContain(`GET /containers/${BACKUP}/json`);
  });

  it('names the collector’s container rows, leaving services alone', async () => {
    names = createContainerNames({ endpoint: { socketPath: await engine(replay) } });
    await names.refresh();
    const roots = writeV2Host(dir + '/tree', manyCgroups(5));
    const collector = createCgroupsCollector({ ...roots, now: () => 0 }, { names });
    const metrics = await collector.collect();
    if (!metrics.available) throw new Error(metrics.error);
    expect(metrics.namesUnavailableReason).toBeNull();
    // containerId(1) runs under the cgroupfs driver (docker/<id>) in manyCgroups.
    expect(metrics.groups.web).toMatchObject({
      kind: 'container',
      runtime: 'docker',
      health: 'healthy',
    });
    expect(metrics.groups['shop-db-1']).toMatchObject({ kind: 'container', runtime: 'podman' });
    // The snapshot leaves the image and restart count to the watched table; services have none.
    expect(metrics.groups.web).not.toHaveProperty('restartCount');
    expect(metrics.groups['svc-4.service']).not.toHaveProperty('health');
    const web = collector.table()!.groups.find((row) => row.name === 'web')!;
    expect(web).toMatchObject({ id: `docker/${WEB}`, containerId: WEB, restartCount: 2 });
    expect(collector.table()!.groups.find((row) => row.name === 'shop-db-1')!.id).toBe(
      `machine.slice/libpod-${DB}.scope`,
    );
    expect(web.image).toBeTypeOf('string');
  });

  it('states once why names are missing: no socket, an error answer, no answer in time', async () => {
    names = createContainerNames({ endpoint: { socketPath: path.join(dir, 'absent.sock') } });
    await names.refresh();
    expect(names.reason()).toBe(
      `Docker/Podman API unreachable at ${dir}/absent.sock: no such socket`,
    );
    names.stop();

    const failing = await engine((_, response) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end('{"message":"Cannot connect to the Docker daemon"}');
    });
    names = createContainerNames({ endpoint: { socketPath: failing } });
    await names.refresh();
    expect(names.reason()).toMatch(/unreachable at .*docker\.sock: HTTP 500/);
    names.stop();
    await new Promise((resolve) => server!.close(resolve));

    await engine(() => {
      // Never answers.
    });
    names = createContainerNames({
      endpoint: { socketPath: path.join(dir, 'docker.sock') },
      timeoutMs: 100,
    });
    await names.refresh();
    expect(names.reason()).toMatch(/no answer within 100 ms/);
    server!.closeAllConnections();
  });
});
