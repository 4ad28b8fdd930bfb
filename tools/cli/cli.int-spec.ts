import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { verifyApiKeySecret } from '@mailwarden/db';
import { createEmptyDatabase, createTestDatabase, type TestDatabase, TestFactories } from '@mailwarden/testing';
import { runCli } from './cli';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '..', '..');
const COMPILED = path.join(ROOT, 'dist', 'tools', 'cli', 'mailwarden.js');

/** One CLI run in process: its exit code and what it printed. */
async function mw(databaseUrl: string, ...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (line) => out.push(line), err: (line) => err.push(line) }, { DATABASE_URL: databaseUrl });
  return { code, out, err };
}

const field = (lines: string[], pattern: RegExp): string => {
  for (const line of lines) {
    const match = pattern.exec(line);
    if (match) {
      return match[1]!;
    }
  }
  throw new Error(`no line matches ${pattern}: ${lines.join(' | ')}`);
};

describe('operator CLI (npm run mw) against PostgreSQL', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('should take an operator from nothing to a partner with its key and two tenants with their own keys, every step audited', async () => {
    const partner = await mw(db.url, 'partner', 'create', '--name', 'Acme MSP');
    expect(partner).toMatchObject({ code: 0, err: [] });
    const partnerId = field(partner.out, /^partner (\S+) \(Acme MSP\)$/);
    const partnerKey = field(partner.out, /^api key \(shown once, store it now\): (mw_\S+)$/);
    const partnerKeyRow = await db.prisma.apiKey.findFirstOrThrow({ where: { partnerId } });
    expect(partnerKeyRow).toMatchObject({ role: 'PARTNER_ADMIN', accountId: null, name: 'Acme MSP admin' });
    // Stored hashed only: the printed key verifies against the row, and the row does not contain it.
    expect(await verifyApiKeySecret(partnerKey.split('_').slice(2).join('_'), partnerKeyRow.hash)).toBe(true);
    expect(partnerKeyRow.hash).not.toContain(partnerKey.split('_').slice(2).join('_'));

    const accountIds: string[] = [];
    for (const name of ['First tenant', 'Second tenant']) {
      const tenant = await mw(db.url, 'tenant', 'create', '--partner', partnerId, '--name', name);
      expect(tenant.code).toBe(0);
      accountIds.push(field(tenant.out, /^account (\S+) \(/));
    }
    expect(await db.prisma.account.findUniqueOrThrow({ where: { id: accountIds[1]! } })).toMatchObject({ partnerId, monitorOnly: true, name: 'Second tenant' });
    const key = await mw(db.url, 'key', 'create', '--account', accountIds[1]!, '--name', 'second admin');
    expect(key.code).toBe(0);
    const tenantKey = field(key.out, /^api key \(shown once, store it now\): (mw_\S+)$/);
    expect(await db.prisma.apiKey.findFirstOrThrow({ where: { prefix: tenantKey.split('_')[1]! } })).toMatchObject({ accountId: accountIds[1], role: 'TENANT_ADMIN' });

    const listed = await mw(db.url, 'accounts', 'list', '--partner', partnerId);
    expect(listed.code).toBe(0);
    expect(listed.out.slice(0, 2).map((line) => line.split('\t')[0])).toEqual([accountIds[1], accountIds[0]]);
    expect(listed.out.at(-1)).toBe('2 account(s)');

    const audit = await db.prisma.auditEvent.findMany({ where: { partnerId }, orderBy: { partnerSeq: 'asc' } });
    expect(audit.map((event) => event.action)).toEqual(['partner.created', 'api_key.created', 'account.created', 'account.created', 'api_key.created']);
    expect(audit.every((event) => /^cli:.+@.+$/.test(event.actor) && event.actorKeyId === null)).toBe(true);
  });

  it('should set a tenant journal source ranges and require-TLS through the API lib function, refusing bad ranges', async () => {
    const partner = await db.prisma.partner.create({ data: { name: 'Journal MSP' } });
    const account = await db.prisma.account.create({ data: { name: 'Journal tenant', partnerId: partner.id, journalToken: 'j-cli-journal' } });
    const set = await mw(db.url, 'journal', 'set', '--account', account.id, '--source-ips', '40.92.0.0/15, 2A01:111:F400::/48', '--require-tls', 'true');
    expect(set).toMatchObject({ code: 0, err: [] });
    expect(await db.prisma.account.findUniqueOrThrow({ where: { id: account.id } })).toMatchObject({
      journalSourceIps: ['40.92.0.0/15', '2a01:111:f400::/48'],
      journalRequireTls: true,
    });
    const bad = await mw(db.url, 'journal', 'set', '--account', account.id, '--source-ips', '10.0.0.0/33');
    expect(bad.code).toBe(1);
    expect(bad.err.join('\n')).toMatch(/sourceIps\[0\].*10\.0\.0\.0\/33/);
    expect((await mw(db.url, 'journal', 'set', '--account', account.id, '--require-tls', 'maybe')).code).toBe(1);
    expect((await mw(db.url, 'journal', 'set', '--account', account.id, '--source-ips', ' , ')).err).toEqual([
      '--source-ips is empty: name at least one range, or use --any-source to accept any address',
    ]);
    expect((await mw(db.url, 'journal', 'set', '--account', '00000000-0000-4000-8000-000000000000', '--any-source')).code).toBe(1);
    const any = await mw(db.url, 'journal', 'set', '--account', account.id, '--any-source');
    expect(any.out).toEqual([`account ${account.id}: journal source any; require TLS true`]);
    const audit = await db.prisma.auditEvent.findMany({ where: { accountId: account.id, action: 'account.journal_settings_set' } });
    expect(audit).toHaveLength(2);
  });

  it('should revoke a key by id, prefix or the key itself, audited, and refuse what is not a key', async () => {
    const partner = await db.prisma.partner.create({ data: { name: 'Revoke MSP' } });
    const account = await db.prisma.account.create({ data: { name: 'Revoke tenant', partnerId: partner.id, journalToken: 'j-cli-revoke' } });
    const keys = new TestFactories(db.prisma);
    const byId = await keys.newApiKey({ name: 'by id', role: 'READ_ONLY', accountId: account.id });
    const byPrefix = await keys.newApiKey({ name: 'by prefix', role: 'PARTNER_ADMIN', partnerId: partner.id });
    const byKey = await keys.newApiKey({ name: 'by key', role: 'TENANT_ADMIN', accountId: account.id });
    for (const given of [byId.key.id, byPrefix.key.prefix, byKey.plaintext]) {
      const revoked = await mw(db.url, 'key', 'revoke', given);
      expect(revoked.code).toBe(0);
    }
    const rows = await db.prisma.apiKey.findMany({ where: { id: { in: [byId.key.id, byPrefix.key.id, byKey.key.id] } } });
    expect(rows.every((row) => row.revokedAt !== null)).toBe(true);
    expect(await db.prisma.auditEvent.count({ where: { action: 'api_key.revoked', objectId: { in: rows.map((row) => row.id) } } })).toBe(3);
    expect(await db.prisma.auditEvent.count({ where: { action: 'api_key.revoked', partnerId: partner.id } })).toBe(3);
    expect((await mw(db.url, 'key', 'revoke', 'zzzzzzzzzzzz')).code).toBe(1);
    expect((await mw(db.url, 'key', 'revoke')).code).toBe(1);
  });

  it('should refuse bad input with one line and a non-zero exit, and answer usage', async () => {
    expect((await mw(db.url, 'tenant', 'create', '--partner', 'not-a-uuid', '--name', 'x')).err).toEqual(['--partner must be an id (uuid), got "not-a-uuid"']);
    expect((await mw(db.url, 'tenant', 'create', '--partner', '00000000-0000-4000-8000-000000000000', '--name', 'x')).code).toBe(1);
    expect((await mw(db.url, 'partner', 'create')).err).toEqual(['--name is required']);
    expect((await mw(db.url, 'key', 'create', '--account', '00000000-0000-4000-8000-000000000000')).code).toBe(1);
    expect((await mw(db.url, 'launch', 'rockets')).code).toBe(2);
    expect((await mw(db.url, '--bogus')).code).toBe(2);
    const help = await mw(db.url, 'help');
    expect(help.code).toBe(0);
    expect(help.out.join('\n')).toMatch(/partner create/);
  });

  it('should create and migrate a database with `migrate`, idempotently', async () => {
    const empty = await createEmptyDatabase();
    try {
      const first = await mw(empty.url, 'migrate');
      expect(first.code).toBe(0);
      expect(first.out.at(-1)).toMatch(/^applied \d+ migration\(s\)/);
      const second = await mw(empty.url, 'migrate');
      expect(second.out.at(-1)).toMatch(/^database is up to date/);
    } finally {
      await empty.drop();
    }
  });

  it('should run as the compiled command (npm run mw) and exit 0 with the key printed once', async () => {
    if (!existsSync(COMPILED)) {
      throw new Error(`${COMPILED} is missing: run \`npm run build\` first (npm test does)`);
    }
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['-r', path.join(ROOT, 'tools', 'runtime', 'paths.cjs'), COMPILED, 'partner', 'create', '--name', 'Spawned MSP'], {
        cwd: ROOT,
        env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: db.url },
      });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      child.on('exit', (code) => resolve({ code, output }));
    });
    expect(result.code).toBe(0);
    expect(result.output.match(/mw_[a-z0-9]{12}_\S+/g)).toHaveLength(1);
  });
});
