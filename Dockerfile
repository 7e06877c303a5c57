# Tributary's worker (and, with another command, its other processes), built from source.
FROM node:20.19-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20.19-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
# The data folder (a volume in compose) belongs to the user the processes run as: the gateway
# writes its generated admin token there.
RUN mkdir -p /data && chown node:node /data
USER node
CMD ["node", "dist/worker.js"]
