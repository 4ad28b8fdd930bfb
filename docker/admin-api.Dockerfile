# Mailwarden admin-api. Build from the repository root:
#   docker build -f docker/admin-api.Dockerfile -t mailwarden/admin-api .
# Not exercised by CI (no Docker engine on the CI machines); kept in step with package.json by review.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY tools/db/generate.cjs tools/db/generate.cjs
COPY prisma.config.ts ./
COPY libs/db/prisma libs/db/prisma
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/tools/runtime tools/runtime
COPY --from=build /app/libs/db/prisma libs/db/prisma
USER node
EXPOSE 3000
# V8 flags: tools/runtime/app-command.cjs
CMD ["node", "--max-semi-space-size=8", "-r", "./tools/runtime/paths.cjs", "dist/apps/admin-api/src/main.js"]
