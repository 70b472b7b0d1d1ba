# One image for every app; the command names the app (docs/deployment.md):
#   docker build -t music-sync .
#   docker run --rm -e MONGO_URL=... -e REDIS_URL=... -e JWT_PRIVATE_KEY=... -e JWT_PUBLIC_KEYS=... -e SECRETS_KEYS=... -p 3001:3000 music-sync music-auth
# Every app listens on $PORT (3000 unless set) and answers GET /health/ready, which the
# HEALTHCHECK below probes. tools/deploy/dockerfile.spec.ts checks the rules this file keeps.
#
# Base: Node.js 26, the Active LTS line on 2026-11-29 (maintenance from 2027-10-20, end of life
# 2029-04-30), on Debian 13 "trixie" slim. Pinned by exact version and by the digest of the
# multi-platform index that docker-library published for it (repo-info, 2026-09-22). To move to a
# newer 26.x, change both (`docker buildx imagetools inspect node:<version>-trixie-slim` prints the
# digest); CI (.ci/run) reads the version from this line and runs the tests on that same release.
ARG NODE_IMAGE=node:26.10.0-trixie-slim@sha256:ec7758ee051e457b468b32bde57b0879010b325bb9862718e9615225ce4aaae1

# --- every dependency, for the build ---------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# No install scripts: bcrypt, msgpackr and esbuild load the prebuilt binaries their packages ship,
# and nx works without its postinstall (as on the development machines).
RUN npm ci --ignore-scripts --no-audit --no-fund

# --- typecheck, then compile every app to dist/apps/<app>/src/main.js (and the demo) -----------
FROM deps AS build
ENV CI=true NX_DAEMON=false NX_NO_CLOUD=true
COPY tsconfig.base.json tsconfig.json nx.json ./
COPY tools ./tools
COPY libs ./libs
COPY apps ./apps
COPY scripts/demo.ts ./scripts/demo.ts
RUN npm run typecheck && npm run build

# --- production dependencies only ------------------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- the runtime: built JavaScript, production node_modules, a non-root user -------------------
FROM ${NODE_IMAGE} AS runtime
# npm is not needed to run the apps: one tool less to patch in production.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/bin/npm /usr/local/bin/npx
WORKDIR /app
ENV NODE_ENV=production LOG_FORMAT=json PORT=3000
# Owned by root, read-only for the user the apps run as.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY docker/run-app.sh ./docker/run-app.sh
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/health/ready', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/app/docker/run-app.sh"]
