import http from 'node:http';
import type { CgroupRow } from '@livestat/contracts';

/** What the Docker/Podman API adds to a container's row. */
export type ContainerInfo = Pick<CgroupRow, 'name' | 'image' | 'state' | 'health' | 'restartCount'>;

/** Container names and health by full id, refreshed off the sampling path. */
export interface ContainerNames {
  lookup(containerId: string): ContainerInfo | undefined;
  /** Why names are missing (the API unreachable or refusing); null while it answers. */
  reason(): string | null;
  /** Asks the API now; resolves when the answer (or the failure) is in. */
  refresh(): Promise<void>;
  stop(): void;
}

/** Where to reach the API: a unix socket, or host and port for `tcp://`. */
export type DockerEndpoint = { socketPath: string } | { host: string; port: number };

/**
 * Parses `DOCKER_HOST` as Docker does: `unix:///var/run/docker.sock` (also Podman's
 * compatible socket) or `tcp://host:port` (plain HTTP). Anything else is a `RangeError`.
 */
export function parseDockerHost(value: string): DockerEndpoint {
  if (value.startsWith('unix://')) {
    const socketPath = value.slice('unix://'.length);
    if (!socketPath.startsWith('/')) throw new RangeError('unix:// needs an absolute socket path');
    return { socketPath };
  }
  const tcp = /^tcp:\/\/([^:/]+):(\d{1,5})\/?$/.exec(value);
  if (tcp) return { host: tcp[1]!, port: Number(tcp[2]) };
  throw new RangeError('must be unix:///path/to/docker.sock or tcp://host:port');
}

const describe = (endpoint: DockerEndpoint): string =>
  'socketPath' in endpoint ? endpoint.socketPath : `${endpoint.host}:${endpoint.port}`;

function getJson(endpoint: DockerEndpoint, path: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // No keep-alive pool: a connection kept from before an engine restart would fail with EPIPE.
    const request = http.get({
      ...endpoint,
      path,
      agent: false,
      timeout: timeoutMs,
      headers: { host: 'docker' },
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (response.statusCode !== 200) {
          reject(new Error(`HTTP ${response.statusCode} for ${path}`));
          return;
        }
        try {
          resolve(JSON.parse(body));
        } catch {
          reject(new Error(`not JSON from ${path}`));
        }
      });
    });
  });
}

interface ListedContainer {
  Id?: unknown;
  Names?: unknown;
  Image?: unknown;
  State?: unknown;
  Status?: unknown;
}

interface InspectedContainer {
  RestartCount?: unknown;
  State?: { Health?: { Status?: unknown } | null } | null;
}

const text = (value: unknown): string | null =>
  typeof value === 'string' && value !== '' ? value : null;

/** A container of `GET /containers/json`, as a row's API fields. */
export function fromListing(listed: ListedContainer): [string, ContainerInfo] | null {
  const id = text(listed.Id);
  if (id === null) return null;
  const names = Array.isArray(listed.Names) ? listed.Names : [];
  const name = text(names[0])?.replace(/^\//, '') ?? id.slice(0, 12);
  // `Up 3 hours (healthy)`: the listing says health in its status text; inspect says it exactly.
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(text(listed.Status) ?? '');
  return [
    id,
    {
      name,
      image: text(listed.Image),
      state: text(listed.State),
      health: health ? health[1]!.replace('health: ', '') : null,
      restartCount: null,
    },
  ];
}

function reasonOf(endpoint: DockerEndpoint, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'no such socket'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'ECONNREFUSED'
          ? 'connection refused'
          : err instanceof Error
            ? err.message
            : String(err);
  return `Docker/Podman API unreachable at ${describe(endpoint)}: ${why}`;
}

export interface ContainerNamesOptions {
  endpoint: DockerEndpoint;
  /** How often the API is asked again; default 10 s. */
  intervalMs?: number;
  /** Per request; default 2 s. */
  timeoutMs?: number;
}

/**
 * Asks the Docker Engine API (or Podman's compatible one) for every container
 * (`GET /containers/json?all=1`) and inspects the running ones for health and restart count,
 * every `intervalMs` on a timer of its own: the sampler only ever reads the last answer.
 */
export function createContainerNames(options: ContainerNamesOptions): ContainerNames {
  const { endpoint } = options;
  const intervalMs = options.intervalMs ?? 10_000;
  const timeoutMs = options.timeoutMs ?? 2000;
  let known = new Map<string, ContainerInfo>();
  let failure: string | null = 'Docker/Podman API not asked yet';
  let inFlight: Promise<void> | null = null;
  let stopped = false;

  async function ask(): Promise<void> {
    try {
      const listing = await getJson(endpoint, '/containers/json?all=1', timeoutMs);
      if (!Array.isArray(listing)) throw new Error('the container list is not an array');
      const next = new Map<string, ContainerInfo>();
      for (const listed of listing as ListedContainer[]) {
        const entry = fromListing(listed);
        if (entry) next.set(entry[0], entry[1]);
      }
      await Promise.all(
        [...next].map(async ([id, info]) => {
          if (info.state !== 'running' && info.state !== 'restarting') return;
          const inspected = (await getJson(
            endpoint,
            `/containers/${id}/json`,
            timeoutMs,
          )) as InspectedContainer;
          const restarts = inspected.RestartCount;
          if (typeof restarts === 'number' && Number.isInteger(restarts) && restarts >= 0)
            info.restartCount = restarts;
          info.health = text(inspected.State?.Health?.Status) ?? info.health;
        }),
      );
      known = next;
      failure = null;
    } catch (err) {
      failure = reasonOf(endpoint, err);
    }
  }

  function refresh(): Promise<void> {
    inFlight ??= ask().finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  const timer = setInterval(() => {
    if (!stopped) void refresh();
  }, intervalMs);
  timer.unref();
  void refresh();

  return {
    lookup: (containerId) => known.get(containerId),
    reason: () => failure,
    refresh,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
