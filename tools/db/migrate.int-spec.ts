import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { readMigrationFiles } from '@mailwarden/db';
import { createEmptyDatabase } from '@mailwarden/testing';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'tools', 'db', 'migrate.js');

/** `npm run db:migrate` as a separate process (the compiled tool; `npm test` builds it first). */
function runMigrateCli(databaseUrl: string, migrationsEnv: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: databaseUrl, ...migrationsEnv },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('npm run db:migrate', () => {
  beforeAll(() => {
    if (!existsSync(CLI)) {
      throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
    }
  });

  it('should create the database, and leave one row per migration when two processes run it at once', async () => {
    const db = await createEmptyDatabase();
    try {
      // The tool creates a missing database itself: point it at a name that does not exist yet.
      const url = new URL(db.url);
      const fresh = `${db.name}_cli`;
      url.pathname = `/${fresh}`;
      const results = await Promise.all([runMigrateCli(url.toString()), runMigrateCli(url.toString())]);
      expect(results.map((result) => result.code)).toEqual([0, 0]);
      expect(results.map((result) => result.output).join('\n')).toMatch(/applied \d+ migration/);

      const client = new Client({ connectionString: url.toString() });
      await client.connect();
      const { rows } = await client.query('SELECT migration_name, count(*)::int AS n FROM "_prisma_migrations" GROUP BY migration_name ORDER BY migration_name');
      await client.end();
      expect(rows).toEqual(readMigrationFiles().map((file) => ({ migration_name: file.name, n: 1 })));

      const again = await runMigrateCli(url.toString());
      expect(again.code).toBe(0);
      expect(again.output).toMatch(/database is up to date/);

      const admin = new Client({ connectionString: db.url });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${fresh}" WITH (FORCE)`);
      await admin.end();
    } finally {
      await db.drop();
    }
  });

  it('should refuse, with one line naming the migration, when an applied migration was edited', async () => {
    const db = await createEmptyDatabase();
    try {
      expect((await runMigrateCli(db.url)).code).toBe(0);
      const [first] = readMigrationFiles();
      const client = new Client({ connectionString: db.url });
      await client.connect();
      // Same effect as editing the file after it was applied: the recorded checksum no longer matches.
      await client.query('UPDATE "_prisma_migrations" SET checksum = $1 WHERE migration_name = $2', ['0'.repeat(64), first!.name]);
      await client.end();
      const refused = await runMigrateCli(db.url);
      expect(refused.code).toBe(1);
      expect(refused.output.trim()).toMatch(new RegExp(`^db:migrate refused: migration ${first!.name} was modified after it was applied`));
    } finally {
      await db.drop();
    }
  });
});
