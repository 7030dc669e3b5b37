# Postiz CLI Auth Server. Two stages: type-check and bundle with every dependency, then run
# dist/ with production dependencies only, as the unprivileged `node` user.
#
#   docker build -t postiz-cli-auth .
#   docker run -p 3111:3111 --env-file .env postiz-cli-auth
#
# Give it PostgreSQL with DATABASE_URL (several instances need it). The image runs with
# NODE_ENV=production, where the embedded database is used only when asked for by name:
# -e PGLITE_DATA_DIR=/app/.data/pglite, with a volume there (-v postiz-cli-auth-data:/app/.data)
# or it is lost with the container. docker-compose.yml runs it with PostgreSQL; see
# docs/deploy.md. --build-arg SOURCE_COMMIT=$(git rev-parse HEAD) records the commit (the
# build context has no .git): --version, the start-up line, /health and build_info show it.
#
# Node.js 24 (LTS until April 2028); 22 and 26 are supported and tested too (package.json
# "engines", README).

FROM node:24-bookworm-slim AS build
ARG SOURCE_COMMIT=unknown
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY demo ./demo
RUN SOURCE_COMMIT=$SOURCE_COMMIT npm run build

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3111
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; none of them has an install script. The data directory is
# created here so the embedded database (and a named volume mounted on it) belong to `node`.
RUN npm ci --omit=dev --no-audit --no-fund \
    && npm cache clean --force \
    && mkdir -p /app/.data \
    && chown node:node /app/.data
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
USER node
EXPOSE 3111
# Slim images have no curl: ask /health with Node's own fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3111) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node is PID 1 and handles SIGTERM/SIGINT itself: held polls are answered, requests finish.
# Source maps: a stack trace in the log points into src/, not into the bundle.
CMD ["node", "--enable-source-maps", "dist/cli.js", "serve"]
