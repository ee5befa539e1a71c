import { createRequire } from 'node:module';
import type * as IoRedis from 'ioredis';
import type PgModule from 'pg';
import type * as PgCopyStreams from 'pg-copy-streams';
import type ProtobufJs from 'protobufjs';

// Libraries loaded on first use, not at start-up: a process without REDIS_URL never loads
// ioredis, one on PGlite never loads pg, and protobufjs waits for the first OTLP request. Each
// costs start-up time and memory (module code, compiled functions) for a feature the
// configuration may not use; see bench/RESULTS.md's bench/footprint section. All are CommonJS,
// so `require` loads them synchronously and the factories that construct clients stay so too.
const require = createRequire(import.meta.url);

export const ioredis = (): typeof IoRedis => require('ioredis') as typeof IoRedis;
export const pg = (): typeof PgModule => require('pg') as typeof PgModule;
export const pgCopyStreams = (): typeof PgCopyStreams =>
  require('pg-copy-streams') as typeof PgCopyStreams;
export const protobufjs = (): typeof ProtobufJs => require('protobufjs') as typeof ProtobufJs;

/** A new ioredis client for `url` (ioredis loaded on the first call). */
export function newRedis(url: string, options: IoRedis.RedisOptions): IoRedis.Redis {
  return new (ioredis().Redis)(url, options);
}
