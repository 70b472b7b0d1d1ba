# One image for the five apps; docker-compose.yml picks the app with the command
# `node --import tsx apps/<app>/src/main.ts`. The apps run from TypeScript source through tsx
# (as `npm start` does), so the image keeps the dev dependencies.
FROM node:20-bookworm-slim

WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# No install scripts, as on the development machines (npm 11 skips them there): bcrypt, msgpackr
# and esbuild load their bundled prebuilt binaries, and nothing needs a compiler.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm cache clean --force

COPY tsconfig.base.json tsconfig.json nx.json ./
COPY libs ./libs
COPY apps ./apps

ENV NODE_ENV=production LOG_FORMAT=json
USER node
EXPOSE 3000 3001 3002 3003 5000
CMD ["node", "--enable-source-maps", "--import", "tsx", "apps/music-config/src/main.ts"]
