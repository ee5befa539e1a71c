import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino blanks in every line: credentials must never reach a log, whatever a caller
 * passes (the WebSocket `?token=` is redacted where URLs are logged).
 */
export const REDACT_PATHS = [
  'password',
  'token',
  'jwtSecret',
  'adminPassword',
  'metricsToken',
  'databaseUrl',
  'redisUrl',
  '*.password',
  '*.token',
  'req.headers.authorization',
  'req.headers.cookie',
];

/** The one logger of a process; `destination` lets the sample CLI log to stderr. */
export function createLogger(
  options: { level: string; name?: string },
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: options.level,
      name: options.name ?? 'livestat',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
