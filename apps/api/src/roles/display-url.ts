/**
 * A connection string fit for a log line: scheme, host, port and path only. The user name,
 * password and query (where `?password=` may hide) are dropped; a string that does not parse
 * or names no host is not shown.
 */
export function displayUrl(connectionString: string): string {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return '(unparsable URL)';
  }
  // Without `//host` the whole rest is the path ('postgres:user:pw@db'): show none of it.
  if (url.host === '') return `${url.protocol}//(no host)`;
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.protocol}//${url.host}${path}`;
}
