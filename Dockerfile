# syntax=docker/dockerfile:1
# vanish server image: docker build -t vanish . && docker run -p 8000:8000 vanish
#
# NODE_VERSION is pinned to Node 24, the active LTS line and the second Node CI runs the whole
# suite on. The image serves with node:http, deliberately: the hyper-express engine's prebuilt
# uWebSockets.js binding ships binaries for Node 16, 18 and 20 only, and Node 20 reached its end
# of life in April 2026 (hyper-express is an opt-in dev dependency, pruned from the image). The
# listening log line says which engine serves and why; see docs/docker.md.
ARG NODE_VERSION=24.21.0

# ---- build: the same install and build commands as .ci/run, then drop dev dependencies
FROM node:${NODE_VERSION}-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# The npm CI uses, so that `allowScripts` and `strict-allow-scripts` apply exactly as there.
RUN npm install -g npm@11.19.1 --no-audit --no-fund
WORKDIR /app
ENV CI=true TURBO_TELEMETRY_DISABLED=1 TURBO_NO_UPDATE_NOTIFIER=1
COPY package.json package-lock.json .npmrc turbo.json tsconfig.json ./
COPY packages/core/package.json packages/core/
COPY packages/adapters/package.json packages/adapters/
COPY packages/client/package.json packages/client/
COPY packages/web/package.json packages/web/
COPY packages/server/package.json packages/server/
COPY packages/testkit/package.json packages/testkit/
RUN npm ci --no-audit --no-fund
COPY packages packages
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund

# ---- runtime: production dependencies and built packages only, as user "node"
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    VANISH_SQLITE_PATH=/data/vanish.db
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules node_modules
COPY --from=build --chown=root:root /app/packages/core/package.json packages/core/
COPY --from=build --chown=root:root /app/packages/core/dist packages/core/dist
COPY --from=build --chown=root:root /app/packages/adapters/package.json packages/adapters/
COPY --from=build --chown=root:root /app/packages/adapters/dist packages/adapters/dist
COPY --from=build --chown=root:root /app/packages/client/package.json packages/client/
COPY --from=build --chown=root:root /app/packages/client/dist packages/client/dist
COPY --from=build --chown=root:root /app/packages/web/package.json packages/web/
COPY --from=build --chown=root:root /app/packages/web/dist packages/web/dist
COPY --from=build --chown=root:root /app/packages/server/package.json packages/server/
COPY --from=build --chown=root:root /app/packages/server/dist packages/server/dist
COPY --from=build --chown=root:root /app/packages/server/bin packages/server/bin
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
USER node
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "packages/server/dist/cli.js"]
CMD ["serve"]
