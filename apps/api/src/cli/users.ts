import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { role as roleSchema, type Role } from '@livestat/contracts';
import { hashPassword, PasswordPolicyError } from '../auth/passwords.js';
import {
  CliFailure,
  parseCommandLine,
  runDatabaseCli,
  table,
  usageErrorOf,
} from './cli-support.js';
import {
  createUserStore,
  USERNAME_PATTERN,
  UserStoreError,
  type UserStore,
} from '../storage/users.js';

// `npm run users -- add|passwd|remove|list`: manage dashboard users from a shell, on the same
// database the API uses. Compiled to dist/cli/users.js, it runs with plain node (the image has
// no tsx): `npm run users` picks whichever is there. One line of result on stdout; logs and
// errors on stderr.

const USAGE = `usage: npm run users -- <command>
   or: node apps/api/dist/cli/users.js <command>        (after a build; in the image too)
   or: docker compose exec api node apps/api/dist/cli/users.js <command>

  add <username> [--role admin|viewer] [--password-stdin]   create a user (role: viewer)
  passwd <username> [--password-stdin]                      set a user's password
  remove <username>                                         delete a user (never the last admin)
  list                                                      show every user

The password is read from stdin (its first line) with --password-stdin or when stdin is not a
terminal, else asked for twice without echo. It is never an argument: arguments end up in
shell history and in \`ps\`. Passwords have 8 to 1024 characters.
DATABASE_URL and DATA_DIR apply as for the API. With the embedded database (no DATABASE_URL),
stop the API first: only one process may open it.
`;

type Command =
  | { name: 'add'; username: string; role: Role; passwordStdin: boolean }
  | { name: 'passwd'; username: string; passwordStdin: boolean }
  | { name: 'remove'; username: string }
  | { name: 'list' };

// Annotated, so that TypeScript narrows after a call (it never returns).
const usageError: (message: string) => never = usageErrorOf('users', USAGE);

function parseCli(argv: string[]): Command {
  if (argv.some((arg) => /^--password(=|$)/.test(arg))) {
    usageError(
      'a password is never taken as an argument (shell history, ps): use --password-stdin or the prompt',
    );
  }
  const {
    command: name,
    rest,
    values,
  } = parseCommandLine(
    argv,
    { role: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
    USAGE,
    usageError,
  );
  const allowed: Record<string, { args: number; options: string[] }> = {
    add: { args: 1, options: ['role', 'password-stdin'] },
    passwd: { args: 1, options: ['password-stdin'] },
    remove: { args: 1, options: [] },
    list: { args: 0, options: [] },
  };
  const shape = allowed[name];
  if (!shape) usageError(`unknown command "${name}"`);
  if (rest.length < shape.args) usageError(`${name} needs a username`);
  if (rest.length > shape.args) usageError(`unexpected argument "${rest[shape.args]}"`);
  for (const option of Object.keys(values)) {
    if (!shape.options.includes(option)) usageError(`--${option} does not apply to ${name}`);
  }
  const username = rest[0] ?? '';
  const passwordStdin = values['password-stdin'] === true;
  switch (name) {
    case 'add': {
      const role = roleSchema.safeParse(values.role ?? 'viewer');
      if (!role.success) usageError(`--role must be admin or viewer (got "${values.role}")`);
      return { name, username, role: role.data, passwordStdin };
    }
    case 'passwd':
      return { name, username, passwordStdin };
    case 'remove':
      return { name, username };
    default:
      return { name: 'list' };
  }
}

/** The first line of stdin: `echo "$PW" | npm run users -- add bob`. */
async function readStdinLine(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += (chunk as Buffer).toString('utf8');
    if (text.includes('\n') || text.length > 8192) break;
  }
  return text.split('\n')[0]!.replace(/\r$/, '');
}

/** Asks on the terminal with echo off: readline writes what is typed to a sink. */
async function ask(question: string): Promise<string> {
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const rl = createInterface({ input: process.stdin, output: sink, terminal: true });
  // Raw mode is on once the interface exists: only now may the prompt invite typing.
  process.stderr.write(question);
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.once('line', resolve);
      rl.once('SIGINT', () => reject(new CliFailure('cancelled', 130)));
      rl.once('close', () => reject(new CliFailure('no password entered')));
    });
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

async function readNewPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) return readStdinLine();
  const password = await ask('New password: ');
  if ((await ask('Repeat the password: ')) !== password) {
    throw new CliFailure('the passwords do not match; nothing changed');
  }
  return password;
}

async function run(command: Command, users: UserStore): Promise<string> {
  switch (command.name) {
    case 'list': {
      const all = await users.list();
      if (all.length === 0) return 'no users';
      return table([
        ['ID', 'USERNAME', 'ROLE', 'CREATED'],
        ...all.map((u) => [String(u.id), u.username, u.role, u.createdAt.toISOString()]),
      ]);
    }
    case 'add': {
      const { username, role } = command;
      if (!USERNAME_PATTERN.test(username)) {
        throw new CliFailure(
          `username must be 1-64 letters, digits, or . _ @ - (got "${username}")`,
        );
      }
      // Before asking for a password that could not be used anyway.
      if (await users.findByUsername(username)) {
        throw new CliFailure(`user "${username}" already exists`);
      }
      const passwordHash = await hashPassword(await readNewPassword(command.passwordStdin));
      const user = await users.create({ username, passwordHash, role });
      return `created ${user.role} "${user.username}" (id ${user.id})`;
    }
    case 'passwd': {
      const { username } = command;
      if (!(await users.findByUsername(username))) throw new CliFailure(`no user "${username}"`);
      const passwordHash = await hashPassword(await readNewPassword(command.passwordStdin));
      if (!(await users.setPassword(username, passwordHash))) {
        throw new CliFailure(`no user "${username}"`);
      }
      return `changed the password of "${username}" (tokens already issued stay valid until they expire)`;
    }
    case 'remove': {
      if (!(await users.remove(command.username))) {
        throw new CliFailure(`no user "${command.username}"`);
      }
      return `removed "${command.username}"`;
    }
  }
}

const command = parseCli(process.argv.slice(2));
await runDatabaseCli(
  'users',
  usageError,
  (db) => run(command, createUserStore(db)),
  (err) => err instanceof UserStoreError || err instanceof PasswordPolicyError,
);
