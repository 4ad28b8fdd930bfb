# Mailwarden scanner. Build from the repository root:
#   docker build -f docker/scanner.Dockerfile -t mailwarden/scanner .
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
# openssl generates the STARTTLS certificate when SMTP_TLS_KEY_FILE/SMTP_TLS_CERT_FILE are not given.
RUN apt-get update && apt-get install -y --no-install-recommends openssl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/tools/runtime tools/runtime
COPY --from=build /app/libs/db/prisma libs/db/prisma
USER node
EXPOSE 2526 9102
# V8 flags: tools/runtime/app-command.cjs
CMD ["node", "--max-semi-space-size=8", "-r", "./tools/runtime/paths.cjs", "dist/apps/scanner/src/main.js"]
