import { apiTokenScope, createApiTokenRequest, type ApiTokenScope } from '@livestat/contracts';
import { createTokenStore, type TokenStore } from '../tokens/token-store.js';
import {
  CliFailure,
  parseCommandLine,
  runDatabaseCli,
  table,
  usageErrorOf,
} from './cli-support.js';

// `npm run tokens -- create|list|revoke`: API tokens for applications pushing metrics, on the
// same database the API uses. Built like the users CLI (dist/cli/tokens.js runs with plain node).
// The one result line goes to stdout — for `create`, the token itself, so
// `TOKEN=$(npm run --silent tokens -- create worker)` works; notes and errors go to stderr.

const USAGE = `usage: npm run tokens -- <command>
   or: node apps/api/dist/cli/tokens.js <command>        (after a build; in the image too)

  create [--scope ingest] <name>   make a token (shown once: store it now)
  list                             every token, with its last use
  revoke <id>                      refuse the token from now on

DATABASE_URL and DATA_DIR apply as for the API. With the embedded database (no DATABASE_URL),
stop the API first: only one process may open it.
`;

type Command =
  | { name: 'create'; tokenName: string; scope: ApiTokenScope }
  | { name: 'list' }
  | { name: 'revoke'; id: number };

// Annotated, so that TypeScript narrows after a call (it never returns).
const usageError: (message: string) => never = usageErrorOf('tokens', USAGE);

function parseCli(argv: string[]): Command {
  const {
    command: name,
    rest,
    values,
  } = parseCommandLine(argv, { scope: { type: 'string' } }, USAGE, usageError);
  if (name !== 'create' && values.scope !== undefined)
    usageError(`--scope does not apply to ${name}`);
  switch (name) {
    case 'create': {
      if (rest.length !== 1) usageError('create needs one name (quote it if it has spaces)');
      const scope = apiTokenScope.safeParse(values.scope ?? 'ingest');
      if (!scope.success) usageError(`--scope must be ingest (got "${values.scope}")`);
      const body = createApiTokenRequest.safeParse({ name: rest[0], scope: scope.data });
      if (!body.success) usageError(`name ${body.error.issues[0]?.message ?? 'is invalid'}`);
      return { name, tokenName: body.data.name, scope: body.data.scope };
    }
    case 'list':
      if (rest.length > 0) usageError(`unexpected argument "${rest[0]}"`);
      return { name };
    case 'revoke': {
      if (rest.length !== 1 || !/^\d+$/.test(rest[0]!))
        usageError('revoke needs a token id (see list)');
      return { name, id: Number(rest[0]) };
    }
    default:
      usageError(`unknown command "${name}"`);
  }
}

async function run(command: Command, tokens: TokenStore): Promise<string> {
  switch (command.name) {
    case 'list': {
      const all = await tokens.list();
      if (all.length === 0) return 'no tokens';
      return table([
        ['ID', 'NAME', 'SCOPE', 'PREFIX', 'CREATED', 'LAST USED', 'REVOKED'],
        ...all.map((t) => [
          String(t.id),
          t.name,
          t.scope,
          `${t.prefix}…`,
          t.createdAt,
          t.lastUsedAt ?? 'never',
          t.revokedAt ?? '-',
        ]),
      ]);
    }
    case 'create': {
      const { token, info } = await tokens.create({
        name: command.tokenName,
        scope: command.scope,
        createdBy: null,
      });
      process.stderr.write(
        `created ${info.scope} token "${info.name}" (id ${info.id}); it is shown this once:\n`,
      );
      return token;
    }
    case 'revoke': {
      const info = await tokens.revoke(command.id);
      if (!info) throw new CliFailure(`no token ${command.id}`);
      return `revoked token ${info.id} "${info.name}"`;
    }
  }
}

const command = parseCli(process.argv.slice(2));
await runDatabaseCli('tokens', usageError, (db) => run(command, createTokenStore(db)));
