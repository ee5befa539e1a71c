import { spawn } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  describePostgres,
  silentLogger,
  type TestDatabase,
} from '../../test/databases.js';
import { API_DIR, runTs, spawnTs, type RunResult } from '../../test/process.js';
import { verifyPassword } from '../auth/passwords.js';
import { lockDataDir } from '../storage/data-dir-lock.js';
import { createPgliteDatabase } from '../storage/db.js';
import { migrate } from '../storage/migrate.js';
import { createUserStore } from '../storage/users.js';

const CLI = 'src/cli/users.ts';
const TSX = fileURLToPath(new URL('../../../../node_modules/.bin/tsx', import.meta.url));
const SLOW = 60_000;

/** Runs the CLI with `input` on its stdin (a pipe, so never a terminal). */
function runWithStdin(args: string[], env: NodeJS.ProcessEnv, input: string): Promise<RunResult> {
  const child = spawnTs(CLI, args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.on('error', () => undefined); // the CLI may exit before reading
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), typing each answer once its prompt
 * appears. Returns everything the terminal showed.
 */
function runOnTerminal(args: string[], env: NodeJS.ProcessEnv, answers: [string, string][]) {
  const command = [TSX, '--conditions=@livestat/source', CLI, ...args].join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    cwd: API_DIR,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...env },
  });
  let screen = '';
  let next = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString();
    const answer = answers[next];
    if (answer && screen.split(answer[0]).length - 1 > countPrompts(answers, next, answer[0])) {
      next += 1;
      child.stdin.write(`${answer[1]}\r`);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (screen += chunk.toString()));
  return new Promise<{ code: number | null; screen: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen }));
  });
}

// How many times `prompt` was already answered before answer `index`.
function countPrompts(answers: [string, string][], index: number, prompt: string): number {
  return answers.slice(0, index).filter(([p]) => p === prompt).length;
}

describe('npm run users (embedded PGlite)', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'livestat-users-cli-'));
    env = { DATA_DIR: dataDir };
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  /** Opens the CLI's database in this process (the CLI has exited) to check what it stored. */
  async function stored(username: string) {
    const dir = join(dataDir, 'pglite');
    const release = await lockDataDir(dir);
    const db = await createPgliteDatabase(dir);
    try {
      await migrate(db, silentLogger);
      return await createUserStore(db).findByUsername(username);
    } finally {
      await db.close();
      await release();
    }
  }

  it(
    'manages users end to end: add, list, passwd, remove',
    async () => {
      const empty = await runTs(CLI, ['list'], env);
      expect(empty).toMatchObject({ code: 0, stdout: 'no users\n' });

      const alice = await runWithStdin(
        ['add', 'alice', '--role', 'admin', '--password-stdin'],
        env,
        'alice-password-1\n',
      );
      expect(alice.stdout).toBe('created admin "alice" (id 1)\n');
      expect(alice.code).toBe(0);
      // No flag, but stdin is not a terminal: read from it. Role defaults to viewer.
      const bob = await runWithStdin(
        ['add', 'bob'],
        env,
        'bob-password-1\r\nignored second line\n',
      );
      expect(bob).toMatchObject({ code: 0, stdout: 'created viewer "bob" (id 2)\n' });

      const list = await runTs(CLI, ['list'], env);
      expect(list.code).toBe(0);
      const lines = list.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^ID\s+USERNAME\s+ROLE\s+CREATED$/);
      expect(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 3))).toEqual([
        ['1', 'alice', 'admin'],
        ['2', 'bob', 'viewer'],
      ]);
      for (const line of lines.slice(1)) {
        expect(Number.isNaN(Date.parse(line.split(/\s+/)[3]!))).toBe(false);
      }

      const storedBob = await stored('bob');
      expect(await verifyPassword(storedBob!.passwordHash, 'bob-password-1')).toBe(true);

      const passwd = await runWithStdin(
        ['passwd', 'bob', '--password-stdin'],
        env,
        'bob-password-2\n',
      );
      expect(passwd.code).toBe(0);
      expect(passwd.stdout).toMatch(/^changed the password of "bob"/);
      const changed = await stored('bob');
      expect(await verifyPassword(changed!.passwordHash, 'bob-password-2')).toBe(true);
      expect(await verifyPassword(changed!.passwordHash, 'bob-password-1')).toBe(false);

      expect(await runTs(CLI, ['remove', 'bob'], env)).toMatchObject({
        code: 0,
        stdout: 'removed "bob"\n',
      });
      expect(await stored('bob')).toBeNull();

      // No password ever reaches the output or the logs.
      for (const result of [alice, bob, passwd, list]) {
        expect(result.stdout + result.stderr).not.toMatch(/password-\d/);
      }
    },
    SLOW * 2,
  );

  it(
    'fails with exit 1 and a clear message',
    async () => {
      const results = {
        exists: await runWithStdin(['add', 'alice'], env, 'another-password\n'),
        short: await runWithStdin(['add', 'carol'], env, 'short\n'),
        emptyStdin: await runWithStdin(['add', 'carol'], env, ''),
        badName: await runWithStdin(['add', 'no spaces'], env, 'long-enough-1\n'),
        passwdUnknown: await runWithStdin(['passwd', 'nobody'], env, 'long-enough-1\n'),
        removeUnknown: await runTs(CLI, ['remove', 'nobody'], env),
        lastAdmin: await runTs(CLI, ['remove', 'alice'], env),
      };
      const messages = Object.fromEntries(
        Object.entries(results).map(([name, r]) => [name, [r.code, r.stdout, r.stderr.trim()]]),
      );
      expect(messages).toEqual({
        exists: [1, '', 'users: user "alice" already exists'],
        short: [1, '', 'users: password must be at least 8 characters (got 5)'],
        emptyStdin: [1, '', 'users: password must be at least 8 characters (got 0)'],
        badName: [
          1,
          '',
          'users: username must be 1-64 letters, digits, or . _ @ - (got "no spaces")',
        ],
        passwdUnknown: [1, '', 'users: no user "nobody"'],
        removeUnknown: [1, '', 'users: no user "nobody"'],
        lastAdmin: [1, '', 'users: "alice" is the only admin; add another admin first'],
      });
      expect((await runTs(CLI, ['list'], env)).stdout).not.toContain('carol');
    },
    SLOW * 2,
  );

  it(
    'asks for the password twice on a terminal without echoing it',
    async () => {
      const ok = await runOnTerminal(['add', 'dora', '--role', 'admin'], env, [
        ['New password: ', 'typed-on-a-tty'],
        ['Repeat the password: ', 'typed-on-a-tty'],
      ]);
      expect(ok.code).toBe(0);
      expect(ok.screen).toContain('created admin "dora"');
      expect(ok.screen).not.toContain('typed-on-a-tty');
      const dora = await stored('dora');
      expect(await verifyPassword(dora!.passwordHash, 'typed-on-a-tty')).toBe(true);

      const mismatch = await runOnTerminal(['passwd', 'dora'], env, [
        ['New password: ', 'first-attempt-1'],
        ['Repeat the password: ', 'second-attempt-2'],
      ]);
      expect(mismatch.code).toBe(1);
      expect(mismatch.screen).toContain('users: the passwords do not match; nothing changed');
      expect(mismatch.screen).not.toMatch(/attempt-\d/);
      const unchanged = await stored('dora');
      expect(await verifyPassword(unchanged!.passwordHash, 'typed-on-a-tty')).toBe(true);
    },
    SLOW * 2,
  );

  it(
    'refuses to open the embedded database while another process (the API) holds it',
    async () => {
      const release = await lockDataDir(join(dataDir, 'pglite'));
      try {
        const result = await runTs(CLI, ['list'], env);
        expect(result.code).toBe(1);
        expect(result.stdout).toBe('');
        expect(result.stderr).toContain(`is in use by process ${process.pid} (the API?)`);
        expect(result.stderr).toContain('stop it and run this again, or set DATABASE_URL');
      } finally {
        await release();
      }
    },
    SLOW,
  );

  const usageCases: [string[], string][] = [
    [[], 'a command is required'],
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['add'], 'add needs a username'],
    [['add', 'a', 'b'], 'unexpected argument "b"'],
    [['list', 'extra'], 'unexpected argument "extra"'],
    [['add', 'eve', '--role', 'root'], '--role must be admin or viewer (got "root")'],
    [['remove', 'eve', '--role', 'admin'], '--role does not apply to remove'],
    [['passwd', 'eve', '--role', 'admin'], '--role does not apply to passwd'],
    [['add', 'eve', '--password', 'hunter22'], 'a password is never taken as an argument'],
    [['add', 'eve', '--password=hunter22'], 'a password is never taken as an argument'],
    [['list', '--bogus'], "Unknown option '--bogus'"],
  ];

  it(
    'exits 2 with usage, before touching the database, for bad arguments',
    async () => {
      // Usage errors never open the database, so these may run side by side.
      const untouched = join(dataDir, 'never-created');
      const results = await Promise.all(
        usageCases.map(([args]) => runTs(CLI, args, { DATA_DIR: untouched })),
      );
      await expect(access(untouched)).rejects.toThrow(/ENOENT/);
      results.forEach((result, i) => {
        const [args, message] = usageCases[i]!;
        expect({ args, code: result.code, stdout: result.stdout }).toEqual({
          args,
          code: 2,
          stdout: '',
        });
        expect(result.stderr).toContain(message);
        expect(result.stderr).toContain('usage: npm run users -- <command>');
        expect(result.stderr).not.toContain('hunter22');
      });
    },
    SLOW,
  );

  it(
    'exits 2 naming a bad environment variable',
    async () => {
      const result = await runTs(CLI, ['list'], { ...env, DATABASE_URL: 'mysql://nope' });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('DATABASE_URL must be a URL starting with postgres://');
    },
    SLOW,
  );
});

describePostgres('npm run users (DATABASE_URL)', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase('postgres', { migrate: false });
  });
  afterAll(() => test.drop());

  it(
    'migrates and manages users in PostgreSQL, with no DATA_DIR lock',
    async () => {
      const env = { DATABASE_URL: test.url, DATA_DIR: '/nonexistent/livestat-data' };
      const added = await runWithStdin(['add', 'pat', '--role', 'admin'], env, 'postgres-pw-1\n');
      expect(added).toMatchObject({ code: 0, stdout: 'created admin "pat" (id 1)\n' });
      const list = await runTs(CLI, ['list'], env);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/^1\s+pat\s+admin\s+\S+$/m);
      const pat = await createUserStore(test.db).findByUsername('pat');
      expect(await verifyPassword(pat!.passwordHash, 'postgres-pw-1')).toBe(true);
    },
    SLOW,
  );
});
