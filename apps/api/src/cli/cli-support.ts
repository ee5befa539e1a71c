import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig, loadEnvFile, type Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { DataDirLockedError, lockDataDir } from '../storage/data-dir-lock.js';
import { createPgliteDatabase, createPostgresDatabase, type Database } from '../storage/db.js';
import { migrate } from '../storage/migrate.js';

// What the database CLIs (users, tokens) share: their command line, their failure type, the
// database they open and the table they print.

/** Exits 2 after `<cli>: <message>` and the usage: a command line the CLI cannot run. */
export function usageErrorOf(cli: string, usage: string): (message: string) => never {
  return (message) => {
    process.stderr.write(`${cli}: ${message}\n\n${usage}`);
    process.exit(2);
  };
}

/**
 * Parses a CLI's arguments strictly (an unknown option is a usage error); `--help`/`-h` prints
 * the usage and exits 0. The first positional is the command, the rest its arguments.
 */
export function parseCommandLine(
  argv: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  usage: string,
  usageError: (message: string) => never,
): { command: string; rest: string[]; values: Record<string, string | boolean | undefined> } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    usageError((err as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const [command, ...rest] = parsed.positionals;
  if (command === undefined) usageError('a command is required');
  return { command, rest, values };
}

/** A failure to report in one line and exit 1 (or `exitCode`). */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * The API's database: PostgreSQL at DATABASE_URL, else the embedded one under DATA_DIR, which
 * only one process may hold (a running API makes this a {@link CliFailure} saying so).
 */
export async function openDatabase(
  config: Config,
  logger: Logger,
): Promise<{ db: Database; release: () => Promise<void> }> {
  if (config.databaseUrl) {
    const db = createPostgresDatabase({ connectionString: config.databaseUrl, logger, max: 2 });
    return { db, release: async () => {} };
  }
  const dir = join(config.dataDir, 'pglite');
  let release: () => Promise<void>;
  try {
    release = await lockDataDir(dir);
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    throw new CliFailure(
      `the embedded database ${dir} is in use by process ${err.pid} (the API?): ` +
        'stop it and run this again, or set DATABASE_URL when the API uses PostgreSQL',
    );
  }
  try {
    return { db: await createPgliteDatabase(dir), release };
  } catch (err) {
    await release();
    throw err;
  }
}

/** Rows as aligned columns, the first row the header. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * Runs a database CLI to its end: reads the configuration (a bad variable → usage, exit 2),
 * opens and migrates the database, runs `work`, writes its one line to stdout, and exits —
 * 0, a {@link CliFailure}'s code, or 1 with the error in one line (`expected` errors by their
 * message alone). Logs go to stderr.
 */
export async function runDatabaseCli(
  name: string,
  usageError: (message: string) => never,
  work: (db: Database) => Promise<string>,
  expected: (err: unknown) => boolean = () => false,
): Promise<never> {
  let config: Config;
  try {
    loadEnvFile();
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) usageError(err.message);
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, name: `livestat-${name}` }, process.stderr);
  let exitCode = 0;
  let opened: { db: Database; release: () => Promise<void> } | undefined;
  try {
    opened = await openDatabase(config, logger);
    await migrate(opened.db, logger);
    process.stdout.write(`${await work(opened.db)}\n`);
  } catch (err) {
    const known = err instanceof CliFailure || expected(err);
    process.stderr.write(
      `${name}: ${known ? (err as Error).message : `failed: ${(err as Error).message}`}\n`,
    );
    exitCode = err instanceof CliFailure ? err.exitCode : 1;
  } finally {
    await opened?.db.close().catch(() => undefined);
    await opened?.release();
  }
  // Let stdout drain before exiting so a pipe receives the line.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(exitCode);
}
