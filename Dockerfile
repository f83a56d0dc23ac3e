# syntax=docker/dockerfile:1
# Multi-stage build of the ChargeKeeper appliance; works for linux/arm64 (Pi 4/5) and amd64:
#   docker build -t chargekeeper .
#   docker run -d --name chargekeeper -p 8080:8080 -v chargekeeper-data:/data chargekeeper

FROM node:22-bookworm-slim AS build
WORKDIR /app
# Toolchain for the native SQLite driver when no prebuilt binary fits the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    CHARGEKEEPER_DATA_DIR=/data \
    CHARGEKEEPER_CONFIG=/app/config/default.yaml
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/config ./config
COPY --from=build /app/ui/dist ./ui/dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s \
  CMD node -e "fetch('http://127.0.0.1:8080/api/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "dist/app/main.js"]
