import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The API package version, read once from its package.json (src/ and dist/ sit beside it). */
export const VERSION: string = (require('../package.json') as { version: string }).version;
