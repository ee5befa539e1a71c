import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';

/**
 * Serves the built dashboard (`npm run build` → `apps/web/dist`) from the API's own port:
 * hashed assets for a year, `index.html` never cached, and `index.html` for any other GET that
 * asks for a page, so `/history` survives a reload. Anything else under `/assets` is a 404
 * `{error: "not found"}` that names no path. `/api` is never answered here. Returns null
 * when there is no build in `dir`: the API then serves the API alone.
 */
export function createSpaRouter(dir: string): Router | null {
  const index = path.join(dir, 'index.html');
  if (!existsSync(index)) return null;
  const router = express.Router();
  router.use(
    '/assets',
    express.static(path.join(dir, 'assets'), {
      immutable: true,
      maxAge: '365d',
      index: false,
      redirect: false,
      // Not `fallthrough: false`: its errors carry the absolute path of the missing file
      // ("ENOENT … stat '/srv/…/assets/x.js'"), and a traversal or NUL gets a 403 or 400 that
      // tells a prober what it hit. Every miss under /assets gets the same answer below.
      fallthrough: true,
    }),
  );
  router.use('/assets', (_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  router.use(express.static(dir, { index: false, maxAge: 0 }));
  router.get(/^(?!\/api(?:\/|$)).*/, (req, res, next) => {
    if (!req.accepts('html')) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
