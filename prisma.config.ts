import path from 'node:path';
import { defineConfig } from 'prisma/config';

// Used by the Prisma CLI (`prisma generate`, and `prisma migrate deploy` where its engine can be downloaded).
// Mailwarden's own offline migrator (tools/db/migrate.ts) reads the same migrations folder.
export default defineConfig({
  schema: path.join('libs', 'db', 'prisma', 'schema.prisma'),
  migrations: { path: path.join('libs', 'db', 'prisma', 'migrations') },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/mailwarden' },
});
