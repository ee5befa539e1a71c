# syntax=docker/dockerfile:1
# Multi-stage build: one build stage for the whole monorepo, one stage with the API's runtime
# packages only, then a slim API image and an nginx image serving the dashboard.

FROM node:20-bookworm-slim AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/web/package.json apps/web/
COPY packages/contracts/package.json packages/contracts/

FROM manifests AS build
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# What the API needs at run time and nothing else: the dashboard is built into files, so Vue,
# ECharts and the build tools stay behind (53 MB of node_modules instead of 166 MB).
FROM manifests AS runtime-deps
RUN npm ci --omit=dev --no-audit --no-fund --workspace=@livestat/api --include-workspace-root=false

FROM node:20-bookworm-slim AS api
RUN apt-get update && apt-get install -y --no-install-recommends linux-perf libjemalloc2 \
  && rm -rf /var/lib/apt/lists/* \
  && ln -s "/usr/lib/$(uname -m)-linux-gnu/libjemalloc.so.2" /usr/local/lib/libjemalloc.so.2
WORKDIR /app
ENV NODE_ENV=production
# glibc gives each thread that mallocs an arena of its own (up to 8 a core) and rarely hands
# their pages back; two are plenty for one event loop, libuv's pool and PGlite's thread.
ENV MALLOC_ARENA_MAX=2
# Past its first free of a big block glibc raises its mmap threshold to that block's size, so
# each later argon2 hash or verify (19 MiB, on a libuv thread) is served from an arena that
# keeps the 19 MiB resident: two logins held 38 MB for good. A fixed threshold hands blocks of
# 4 MiB and more back to the system when they are freed.
ENV MALLOC_MMAP_THRESHOLD_=4194304
# V8's platform threads (4 by default, whatever the cores) compile WebAssembly and mark the heap
# in the background, each growing malloc arenas of its own as they go: one is enough for a
# monitor, and holds PGlite's tree ~45 MB smaller (bench/RESULTS.md, bench/footprint).
ENV NODE_OPTIONS=--v8-pool-size=1
# glibc's malloc keeps what the start-up frees (PGlite's compile, migrations, the template) in
# the middle of its heap, resident for good: 28-38 MB that only malloc_trim() would hand back,
# and nothing calls it. jemalloc returns freed pages as they empty (decay 0): PGlite's tree
# ~25 MB smaller (bench/RESULTS.md, bench/footprint). The two MALLOC_ variables above are
# glibc's and stay for a start without the preload.
ENV LD_PRELOAD=/usr/local/lib/libjemalloc.so.2
ENV MALLOC_CONF=dirty_decay_ms:0,muzzy_decay_ms:0
COPY --from=build /app/package.json ./
COPY --from=runtime-deps /app/node_modules ./node_modules
COPY --from=build /app/packages/contracts/package.json packages/contracts/
COPY --from=build /app/packages/contracts/dist packages/contracts/dist
COPY --from=build /app/apps/api/package.json apps/api/
COPY --from=build /app/apps/api/dist apps/api/dist
COPY --from=build /app/apps/api/migrations apps/api/migrations
# The API serves the dashboard itself too (WEB_DIST_DIR), for a deployment without nginx.
COPY --from=build /app/apps/web/dist apps/web/dist
USER node
EXPOSE 8000
CMD ["node", "apps/api/dist/main.js"]

# nginx 1.27.3 or later: deploy/nginx.conf resolves the replicas at request time (`resolve`).
FROM nginx:1.28-alpine AS web
COPY deploy/nginx.conf /etc/nginx/conf.d/default.conf
COPY --from=build /app/apps/web/dist /usr/share/nginx/html
