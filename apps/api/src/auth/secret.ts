import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import { JWT_MIN_SECRET_BYTES } from './tokens.js';

/** The file in `DATA_DIR` that keeps the generated secret across restarts. */
export const JWT_SECRET_FILE = 'jwt-secret';

export interface LoadJwtSecretOptions {
  /** `JWT_SECRET`, already validated by config.ts. */
  configured?: string | undefined;
  dataDir: string;
  logger: Logger;
}

/**
 * The HMAC secret for JWTs: `JWT_SECRET` when set; else the one kept in
 * `<dataDir>/jwt-secret`, generated (48 random bytes, base64url, mode 0600) the first time.
 * Tokens therefore survive restarts without configuration. Never logs the value.
 */
export async function loadJwtSecret(options: LoadJwtSecretOptions): Promise<string> {
  const { configured, dataDir, logger } = options;
  if (configured !== undefined && configured !== '') return configured;

  const file = join(dataDir, JWT_SECRET_FILE);
  const existing = await readSecret(file, logger);
  if (existing !== null) return existing;

  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  // Written whole to a private temporary name, then linked into place: `link` fails if the
  // file exists, so two processes starting at once agree on one secret and nobody ever reads
  // a half-written file.
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const winner = await readSecret(file, logger);
    if (winner === null) throw err;
    return winner;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  logger.info(
    { file },
    'JWT_SECRET is not set: generated a signing secret and saved it (set JWT_SECRET to share one between replicas)',
  );
  return secret;
}

async function readSecret(file: string, logger: Logger): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const secret = text.trim();
  if (Buffer.byteLength(secret) < JWT_MIN_SECRET_BYTES) {
    // Refuse rather than replace: a new secret would silently sign everyone out.
    throw new Error(
      `${file} holds a JWT secret shorter than ${JWT_MIN_SECRET_BYTES} bytes: delete the file to generate a new one, or set JWT_SECRET`,
    );
  }
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0) {
    logger.warn(
      { file, mode: `0${(mode & 0o777).toString(8)}` },
      'the JWT secret file is readable by other users; chmod 600 it',
    );
  }
  return secret;
}
