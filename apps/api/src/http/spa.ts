import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';

/**
 * Serves the built dashboard (`npm run build` → `apps/web/dist`) from the API's own port:
 * hashed assets for a year, `index.html` never cached, and `index.html` for any other GET that
 * asks for a page, so `/history` survives a reload. `/api` is never answered here. Returns null
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
      fallthrough: false,
    }),
  );
  router.use(express.static(dir, { index: false, maxAge: 0 }));
  router.get(/^(?!\/api(?:\/|$)).*/, (req, res, next) => {
    if (!req.accepts('html')) return next();
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
