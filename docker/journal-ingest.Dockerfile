# Mailwarden journal-ingest. Build from the repository root:
#   docker build -f docker/journal-ingest.Dockerfile -t mailwarden/journal-ingest .
# Not exercised by CI (no Docker engine on the CI machines). The image holds only this app's build output, the
# libs it depends on (its package.json, transitively) and their production dependencies:
# tools/scripts/check-images.cjs lists what each Dockerfile copies and fails otherwise (a jest test runs it).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund && npx nx run-many -t build -p journal-ingest
# Every workspace's package.json (the lockfile names them all), for the pruned install below.
RUN mkdir /manifests && cp --parents package.json package-lock.json apps/*/package.json libs/*/package.json tools/package.json /manifests/

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY --from=build /manifests/ ./
# Only the production dependencies of @mailwarden/journal-ingest and of the workspace libs it depends on.
RUN npm ci --omit=dev --workspace=@mailwarden/journal-ingest --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production
# openssl generates the STARTTLS certificate when SMTP_TLS_KEY_FILE/SMTP_TLS_CERT_FILE are not given.
RUN apt-get update && apt-get install -y --no-install-recommends openssl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/package.json ./
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/libs/accounts/package.json libs/accounts/package.json
COPY --from=build /app/libs/accounts/dist libs/accounts/dist
COPY --from=build /app/libs/config/package.json libs/config/package.json
COPY --from=build /app/libs/config/dist libs/config/dist
COPY --from=build /app/libs/db/package.json libs/db/package.json
COPY --from=build /app/libs/db/dist libs/db/dist
COPY --from=build /app/libs/delivery/package.json libs/delivery/package.json
COPY --from=build /app/libs/delivery/dist libs/delivery/dist
COPY --from=build /app/libs/journal/package.json libs/journal/package.json
COPY --from=build /app/libs/journal/dist libs/journal/dist
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
COPY --from=build /app/dist/apps/journal-ingest dist/apps/journal-ingest
# The app launcher's V8 flags (and the marker the admin API finds dist/console by).
COPY --from=build /app/tools/runtime/app-command.cjs tools/runtime/app-command.cjs
USER node
EXPOSE 2525 9101
# V8 flags: tools/runtime/app-command.cjs
CMD ["node", "--max-semi-space-size=8", "dist/apps/journal-ingest/src/main.js"]
