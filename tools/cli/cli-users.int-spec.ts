import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { verifySecret } from '@mailwarden/db';
import { createTestDatabase, type TestDatabase } from '@mailwarden/testing';
import { runCli } from './cli';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '..', '..');
const COMPILED = path.join(ROOT, 'dist', 'tools', 'cli', 'mailwarden.js');

async function mw(databaseUrl: string, args: string[], stdin?: string): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (line: string) => out.push(line), err: (line: string) => err.push(line), ...(stdin !== undefined ? { readStdin: () => Promise.resolve(stdin) } : {}) };
  const code = await runCli(args, io, { DATABASE_URL: databaseUrl });
  return { code, out, err };
}

/** `npm run mw -- user create`: the operator creates the first people who sign in to the console. */
describe('operator CLI: user create', () => {
  let db: TestDatabase;
  let partnerId: string;
  let accountId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    partnerId = (await db.prisma.partner.create({ data: { name: 'CLI MSP' } })).id;
    accountId = (await db.prisma.account.create({ data: { name: 'CLI tenant', partnerId, journalToken: 'j-cli-users' } })).id;
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('should create a partner admin with a generated password shown once (stored only as scrypt), audited as the operator', async () => {
    const created = await mw(db.url, ['user', 'create', '--email', 'First.Admin@MSP.example', '--partner', partnerId, '--name', 'First Admin']);
    expect(created).toMatchObject({ code: 0, err: [] });
    const password = /^password \(shown once, store it now\): (\S+)$/.exec(created.out[1]!)![1]!;
    expect(password.length).toBeGreaterThanOrEqual(24);
    const row = await db.prisma.adminUser.findFirstOrThrow({ where: { email: 'first.admin@msp.example' } });
    expect(row).toMatchObject({ role: 'PARTNER_ADMIN', partnerId, accountId: null, displayName: 'First Admin', locale: 'en' });
    expect(row.passwordHash).toMatch(/^scrypt\$/);
    expect(row.passwordHash).not.toContain(password);
    expect(await verifySecret(password, row.passwordHash!)).toBe(true);
    const audit = await db.prisma.auditEvent.findFirstOrThrow({ where: { objectId: row.id } });
    expect(audit).toMatchObject({ action: 'admin_user.created', partnerId, actorKeyId: null });
    expect(audit.actor).toMatch(/^cli:.+@.+$/);
    expect(JSON.stringify(audit.after)).not.toMatch(/scrypt|passwordHash/);
  });

  it('should read the password from standard input, never print it, and refuse a short one or a second user with the same email in any case', async () => {
    const created = await mw(db.url, ['user', 'create', '--email', 'reader@tenant.example', '--account', accountId, '--role', 'READ_ONLY', '--password-stdin', '--locale', 'ja'], 'a long enough passphrase\n');
    expect(created.code).toBe(0);
    expect(created.out.join('\n')).not.toContain('passphrase');
    const row = await db.prisma.adminUser.findFirstOrThrow({ where: { email: 'reader@tenant.example' } });
    expect(row).toMatchObject({ role: 'READ_ONLY', accountId, partnerId: null, locale: 'ja' });
    expect(await verifySecret('a long enough passphrase', row.passwordHash!)).toBe(true);

    expect((await mw(db.url, ['user', 'create', '--email', 'short@tenant.example', '--account', accountId, '--password-stdin'], 'short\n')).err).toEqual([
      'password refused: a password has at least 12 characters',
    ]);
    expect((await mw(db.url, ['user', 'create', '--email', 'READER@tenant.example', '--account', accountId])).err).toEqual(['a user reader@tenant.example exists already']);
    expect((await mw(db.url, ['user', 'create', '--email', 'x@tenant.example', '--account', accountId, '--role', 'PARTNER_ADMIN'])).code).toBe(1);
    expect((await mw(db.url, ['user', 'create', '--email', 'x@tenant.example', '--partner', partnerId, '--account', accountId])).code).toBe(1);
    expect((await mw(db.url, ['user', 'create', '--email', 'not-an-address', '--account', accountId])).code).toBe(1);
    expect((await mw(db.url, ['user', 'create', '--email', 'x@tenant.example', '--account', '00000000-0000-4000-8000-000000000000'])).code).toBe(1);
    expect(await db.prisma.adminUser.count()).toBe(2);
  });

  it('should take the password from standard input when run as the compiled command', async () => {
    if (!existsSync(COMPILED)) {
      throw new Error(`${COMPILED} is missing: run \`npm run build\` first (npm test does)`);
    }
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [COMPILED, 'user', 'create', '--email', 'piped@tenant.example', '--account', accountId, '--password-stdin'],
        { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: db.url } },
      );
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      child.on('exit', (code) => resolve({ code, output }));
      child.stdin.end('piped password 1234\n');
    });
    expect(result).toMatchObject({ code: 0 });
    expect(result.output).toMatch(/^user \S+ \(piped@tenant\.example, TENANT_ADMIN, account /);
    const row = await db.prisma.adminUser.findFirstOrThrow({ where: { email: 'piped@tenant.example' } });
    expect(await verifySecret('piped password 1234', row.passwordHash!)).toBe(true);
  });
});
