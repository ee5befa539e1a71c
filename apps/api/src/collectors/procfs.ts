import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CollectorError } from './types.js';

/**
 * Reads one file under a proc (or sys) root. A missing or unreadable file becomes a
 * `CollectorError` naming the path, so the collector's `error` says what was missing.
 */
export async function readProcFile(root: string, relativePath: string): Promise<string> {
  const file = path.join(root, relativePath);
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    const reason = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'permission denied' : code;
    throw new CollectorError('read_failed', `cannot read ${file}: ${reason}`, { cause: err });
  }
}

/** Like `readProcFile`, but `null` when the file does not exist (optional sources). */
export async function readOptionalProcFile(
  root: string,
  relativePath: string,
): Promise<string | null> {
  try {
    return await readFile(path.join(root, relativePath), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Splits `key: value unit` or `key value` lines (meminfo, vmstat) into a map of numbers.
 * Lines that do not parse are skipped: newer kernels add fields, we never fail on them.
 */
export function parseKeyValueLines(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([\w()]+):?\s+(-?\d+)/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) {
      values.set(match[1], Number(match[2]));
    }
  }
  return values;
}
