import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseBundledFiles, type EmscriptenFS } from './pglite-bundle.js';

// PGlite's bundled files, trimmed once the database is open: what initdb and builds read goes,
// and so do the time zones other than UTC and full-text search's stemmers, which livestat's SQL
// never reads; what it does read (UTC, the zone abbreviations, PL/pgSQL) stays, byte for byte,
// and the buffer they all came from is released.

type FS = EmscriptenFS & {
  readFile(path: string): Uint8Array;
  analyzePath(path: string): { exists: boolean };
};

describe('releaseBundledFiles', () => {
  let db: PGlite;
  let fs: FS;

  beforeAll(async () => {
    // In memory: this runs initdb, 10-25 s on two busy cores.
    db = await PGlite.create();
    fs = (db as unknown as { mod: { FS: FS } }).mod.FS;
  }, 60_000);
  afterAll(async () => {
    await db.close();
  });

  it('drops the files an open database never reads, keeps the others, frees the bundle', () => {
    const kept = [
      '/pglite/share/postgresql/timezone/UTC',
      '/pglite/share/postgresql/timezonesets/Default',
      '/pglite/lib/postgresql/plpgsql.so',
      '/home/postgres/.pgpass',
    ];
    const before = kept.map((path) => fs.readFile(path).slice());
    const node = fs.lookupPath('/pglite/share/postgresql/postgres.bki').node;
    const bundle = (node.contents as Uint8Array).buffer;
    expect(bundle.byteLength).toBeGreaterThan(1_000_000);

    const dropped = releaseBundledFiles(fs);

    expect(dropped).toBeGreaterThan(1_000_000);
    expect(bundle.byteLength).toBe(0); // detached: nothing holds its 6 MB any more
    for (const gone of [
      '/pglite/share/postgresql/postgres.bki',
      '/pglite/share/postgresql/information_schema.sql',
      '/pglite/lib/postgresql/utf8_and_sjis.so',
      '/pglite/lib/postgresql/libpqwalreceiver.so',
      '/pglite/lib/postgresql/dict_snowball.so',
      '/pglite/share/postgresql/timezone/Europe/Paris',
      '/pglite/share/postgresql/timezone/Etc/UTC',
    ]) {
      expect(fs.analyzePath(gone).exists, gone).toBe(false);
    }
    kept.forEach((path, i) => expect(fs.readFile(path), path).toEqual(before[i]));
    // A second pass finds nothing left viewing a bundle.
    expect(releaseBundledFiles(fs)).toBe(0);
  });

  it('leaves UTC, offsets, zone abbreviations and PL/pgSQL working', async () => {
    expect(
      await db.query(
        `SELECT ('2026-07-01 14:00+02'::timestamptz AT TIME ZONE 'UTC')::text AS t,
                '2026-07-01 08:00 EST'::timestamptz = '2026-07-01 13:00Z' AS abbreviated,
                extract(epoch FROM to_timestamp(1782907200))::int AS epoch`,
      ),
    ).toMatchObject({ rows: [{ t: '2026-07-01 12:00:00', abbreviated: true, epoch: 1782907200 }] });
    await db.exec(`CREATE FUNCTION plus_one(x int) RETURNS int LANGUAGE plpgsql AS $$
      BEGIN RETURN x + 1; END $$`);
    expect(await db.query(`SELECT plus_one(41) AS n`)).toMatchObject({ rows: [{ n: 42 }] });
  });

  it('names the zones and the search it dropped in its errors', async () => {
    await expect(db.query(`SELECT now() AT TIME ZONE 'Europe/Paris'`)).rejects.toThrow(
      /time zone "Europe\/Paris" not recognized/,
    );
    await expect(db.query(`SELECT to_tsvector('english', 'running dogs')`)).rejects.toThrow(
      /dict_snowball/,
    );
  });
});
