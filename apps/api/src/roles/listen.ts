import net from 'node:net';

/**
 * The one line a failed listen deserves: which port, why, and the variable that moves it.
 * `variable` is `PORT` for the API (`WEB_PORT` is the dev server's, checked in its own config).
 */
export function listenProblem(
  err: NodeJS.ErrnoException,
  host: string,
  port: number,
  variable: string,
): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is in use: stop the process that holds it, or set ${variable} to a free port`;
    case 'EACCES':
      return `no permission to listen on port ${port} on ${host}: choose a port above 1023 with ${variable}`;
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this machine: set HOST to one (127.0.0.1, or 0.0.0.0 for all)`;
    default:
      return `cannot listen on ${host}:${port}: ${err.message}`;
  }
}

/**
 * Resolves with null when `host:port` can be listened on now, else with the reason: checked
 * before the database is opened, so a taken port ends start-up at once, with one line. Port 0
 * (any free port) always can.
 */
export async function checkPort(
  host: string,
  port: number,
  variable = 'PORT',
): Promise<string | null> {
  if (port === 0) return null;
  const probe = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host, port, exclusive: true }, resolve);
    });
    return null;
  } catch (err) {
    return listenProblem(err as NodeJS.ErrnoException, host, port, variable);
  } finally {
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
}
