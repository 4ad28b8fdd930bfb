# Mailwarden admin-api. Build from the repository root:
#   docker build -f docker/admin-api.Dockerfile -t mailwarden/admin-api .
# Not exercised by CI (no Docker engine on the CI machines). The image holds only this app's build output, the
# libs it depends on (its package.json, transitively) and their production dependencies:
# tools/scripts/check-images.cjs lists what each Dockerfile copies and fails otherwise (a jest test runs it).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund && npx nx run-many -t build -p admin-api,console,tools
# Every workspace's package.json (the lockfile names them all), for the pruned install below.
RUN mkdir /manifests && cp --parents package.json package-lock.json apps/*/package.json libs/*/package.json tools/package.json /manifests/

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY --from=build /manifests/ ./
# Only the production dependencies of @mailwarden/admin-api and of the workspace libs it depends on.
RUN npm ci --omit=dev --workspace=@mailwarden/admin-api --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/package.json ./
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/libs/accounts/package.json libs/accounts/package.json
COPY --from=build /app/libs/accounts/dist libs/accounts/dist
COPY --from=build /app/libs/auth/package.json libs/auth/package.json
COPY --from=build /app/libs/auth/dist libs/auth/dist
COPY --from=build /app/libs/config/package.json libs/config/package.json
COPY --from=build /app/libs/config/dist libs/config/dist
COPY --from=build /app/libs/db/package.json libs/db/package.json
COPY --from=build /app/libs/db/dist libs/db/dist
COPY --from=build /app/libs/delivery/package.json libs/delivery/package.json
COPY --from=build /app/libs/delivery/dist libs/delivery/dist
COPY --from=build /app/libs/export/package.json libs/export/package.json
COPY --from=build /app/libs/export/dist libs/export/dist
COPY --from=build /app/libs/journal/package.json libs/journal/package.json
COPY --from=build /app/libs/journal/dist libs/journal/dist
COPY --from=build /app/libs/microsoft365/package.json libs/microsoft365/package.json
COPY --from=build /app/libs/microsoft365/dist libs/microsoft365/dist
COPY --from=build /app/libs/mimecast/package.json libs/mimecast/package.json
COPY --from=build /app/libs/mimecast/dist libs/mimecast/dist
COPY --from=build /app/libs/mode-migrations/package.json libs/mode-migrations/package.json
COPY --from=build /app/libs/mode-migrations/dist libs/mode-migrations/dist
COPY --from=build /app/libs/observability/package.json libs/observability/package.json
COPY --from=build /app/libs/observability/dist libs/observability/dist
COPY --from=build /app/libs/policy/package.json libs/policy/package.json
COPY --from=build /app/libs/policy/dist libs/policy/dist
COPY --from=build /app/libs/queue/package.json libs/queue/package.json
COPY --from=build /app/libs/queue/dist libs/queue/dist
COPY --from=build /app/libs/scanning/package.json libs/scanning/package.json
COPY --from=build /app/libs/scanning/dist libs/scanning/dist
COPY --from=build /app/libs/sender-checks/package.json libs/sender-checks/package.json
COPY --from=build /app/libs/sender-checks/dist libs/sender-checks/dist
COPY --from=build /app/libs/smtp/package.json libs/smtp/package.json
COPY --from=build /app/libs/smtp/dist libs/smtp/dist
# The schema migrations (libs/db reads them next to its dist/).
COPY --from=build /app/libs/db/prisma/migrations libs/db/prisma/migrations
COPY --from=build /app/dist/apps/admin-api dist/apps/admin-api
# The web console it serves at /console/, and the migration runner that compose's `migrate` service runs.
COPY --from=build /app/dist/console dist/console
COPY --from=build /app/dist/tools/db/migrate.js /app/dist/tools/db/migrate-database.js dist/tools/db/
# The app launcher's V8 flags (and the marker the admin API finds dist/console by).
COPY --from=build /app/tools/runtime/app-command.cjs tools/runtime/app-command.cjs
USER node
EXPOSE 3000
# V8 flags: tools/runtime/app-command.cjs
CMD ["node", "--max-semi-space-size=8", "dist/apps/admin-api/src/main.js"]
