import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { JWT_SECRET_FILE, loadJwtSecret } from './secret.js';

function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString().trimEnd().split('\n'));
      callback();
    },
  });
  return { logger: createLogger({ level: 'info' }, stream), lines };
}

describe('loadJwtSecret', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'livestat-secret-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('uses JWT_SECRET when configured and writes nothing', async () => {
    const { logger, lines } = capturingLogger();
    const configured = 'c'.repeat(40);
    expect(await loadJwtSecret({ configured, dataDir: root, logger })).toBe(configured);
    expect(await readdir(root)).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('generates a secret once into a new DATA_DIR, mode 0600, logging where but never what', async () => {
    const { logger, lines } = capturingLogger();
    const dataDir = join(root, 'nested', 'data');
    const secret = await loadJwtSecret({ dataDir, logger });
    // 48 random bytes as base64url.
    expect(secret).toMatch(/^[\w-]{64}$/);
    const file = join(dataDir, JWT_SECRET_FILE);
    expect((await readFile(file, 'utf8')).trim()).toBe(secret);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dataDir)).toEqual([JWT_SECRET_FILE]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('generated a signing secret');
    expect(lines[0]).toContain(file);
    expect(lines[0]).not.toContain(secret);

    // A restart reads it back, quietly.
    expect(await loadJwtSecret({ dataDir, logger })).toBe(secret);
    expect(lines).toHaveLength(1);
  });

  it('treats an empty JWT_SECRET as unset', async () => {
    const { logger } = capturingLogger();
    const secret = await loadJwtSecret({ configured: '', dataDir: root, logger });
    expect((await readFile(join(root, JWT_SECRET_FILE), 'utf8')).trim()).toBe(secret);
  });

  it('gives processes starting at once the same secret', async () => {
    const { logger, lines } = capturingLogger();
    const secrets = await Promise.all(
      Array.from({ length: 8 }, () => loadJwtSecret({ dataDir: root, logger })),
    );
    expect(new Set(secrets).size).toBe(1);
    expect((await readFile(join(root, JWT_SECRET_FILE), 'utf8')).trim()).toBe(secrets[0]);
    expect(lines.filter((line) => line.includes('generated a signing secret'))).toHaveLength(1);
    // No temporary files left behind.
    expect(await readdir(root)).toEqual([JWT_SECRET_FILE]);
  });

  it('refuses a file holding a secret too short to be safe, rather than replacing it', async () => {
    const { logger } = capturingLogger();
    await writeFile(join(root, JWT_SECRET_FILE), 'short\n', { mode: 0o600 });
    await expect(loadJwtSecret({ dataDir: root, logger })).rejects.toThrow(
      /shorter than 32 bytes: delete the file/,
    );
    expect(await readFile(join(root, JWT_SECRET_FILE), 'utf8')).toBe('short\n');
  });

  it('warns when the secret file is readable by others, without showing it', async () => {
    const { logger, lines } = capturingLogger();
    const secret = 's'.repeat(48);
    const file = join(root, JWT_SECRET_FILE);
    await writeFile(file, `${secret}\n`);
    await chmod(file, 0o644);
    expect(await loadJwtSecret({ dataDir: root, logger })).toBe(secret);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, file, mode: '0644' });
    expect(lines[0]).not.toContain(secret);
  });
});
