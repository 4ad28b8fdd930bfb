import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { AccountRuleException, JournalSettingsService } from '@mailwarden/accounts';
import { loadConfig } from '@mailwarden/config';
import { passwordProblem } from '@mailwarden/auth';
import { AccountRepository, AdminUserRepository, ApiKeyRepository, AuditRepository, hashSecret, isUuid, MigrationError, parseApiKey, PrismaService, type AuditActor } from '@mailwarden/db';
import { migrateDatabase } from '../db/migrate-database';

export const USAGE = `Usage: npm run mw -- <command> [options]

  partner create --name <name> [--key-name <name>]     a partner and its first partner-admin key (shown once)
  tenant create --partner <id> --name <name> [--advanced]
                                                        a tenant under the partner (monitor-only unless --advanced)
  accounts list [--partner <id>]                        every account (or one partner's), newest first
  key create --account <id> [--role TENANT_ADMIN|READ_ONLY] [--name <name>]
  key create --partner <id> [--name <name>]             a key, shown once (a partner key is PARTNER_ADMIN)
  key revoke <key id | prefix | mw_ key>                revoke a key at once
  journal set --account <id> [--source-ips <cidr,...> | --any-source] [--require-tls true|false]
                                                        the tenant's journal source ranges and STARTTLS rule
  user create --email <email> --partner <id> [--name <display name>]
  user create --email <email> --account <id> [--role TENANT_ADMIN|READ_ONLY] [--name <display name>]
              [--password-stdin] [--locale en|it|ja|de]
                                                        a person who signs in to the console (partner admin with
                                                        --partner); the password is read from standard input with
                                                        --password-stdin, else generated and shown once
  migrate                                               create the database if missing, apply migrations

Reads DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/mailwarden). Every change is audited
(actor cli:<user>@<host>) like the admin API's; keys are never shown again: a lost key is revoked and replaced.`;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Everything on standard input (user create --password-stdin). */
  readStdin?(): Promise<string>;
}

/** A refusal of the operator's input: printed as one line, exit code 1. */
class CliError extends Error {}


function required(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new CliError(`--${name} is required`);
  }
  return value.trim();
}

function uuid(values: Record<string, unknown>, name: string): string {
  const value = required(values, name);
  if (!isUuid(value)) {
    throw new CliError(`--${name} must be an id (uuid), got "${value}"`);
  }
  return value;
}

function flag(value: unknown, name: string): boolean | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (value === 'true' || value === 'false') {
    return value === 'true';
  }
  throw new CliError(`--${name} must be true or false`);
}

/** The operator's commands: a thin shell over the same libs (and audit entries) as the admin API. */
class Commands {
  private readonly accounts: AccountRepository;
  private readonly apiKeys: ApiKeyRepository;
  private readonly journal: JournalSettingsService;
  private readonly users: AdminUserRepository;

  constructor(
    private readonly prisma: PrismaService,
    private readonly io: CliIo,
    private readonly actor: AuditActor,
  ) {
    const audit = new AuditRepository(prisma);
    this.accounts = new AccountRepository(prisma, audit);
    this.apiKeys = new ApiKeyRepository(prisma, audit);
    this.journal = new JournalSettingsService(this.accounts);
    this.users = new AdminUserRepository(prisma, audit);
  }

  async userCreate(values: Record<string, unknown>): Promise<void> {
    const email = required(values, 'email').toLowerCase();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 320) {
      throw new CliError(`--email must be an email address, got "${email}"`);
    }
    let owner: { role: 'PARTNER_ADMIN' | 'TENANT_ADMIN' | 'READ_ONLY'; partnerId: string | null; accountId: string | null };
    if (values['partner'] !== undefined) {
      if (values['account'] !== undefined || (values['role'] !== undefined && values['role'] !== 'PARTNER_ADMIN')) {
        throw new CliError('--partner makes a partner admin: no --account, no other --role');
      }
      const partnerId = uuid(values, 'partner');
      if (!(await this.accounts.findPartner(partnerId))) {
        throw new CliError(`partner ${partnerId} not found`);
      }
      owner = { role: 'PARTNER_ADMIN', partnerId, accountId: null };
    } else {
      const accountId = uuid(values, 'account');
      if (!(await this.accounts.find(accountId))) {
        throw new CliError(`account ${accountId} not found`);
      }
      const role = (values['role'] as string | undefined) ?? 'TENANT_ADMIN';
      if (role !== 'TENANT_ADMIN' && role !== 'READ_ONLY') {
        throw new CliError('--role must be TENANT_ADMIN or READ_ONLY (partner admins: --partner <id>)');
      }
      owner = { role, partnerId: null, accountId };
    }
    const locale = (values['locale'] as string | undefined) ?? 'en';
    if (!['en', 'it', 'ja', 'de'].includes(locale)) {
      throw new CliError('--locale must be en, it, ja or de');
    }
    if (await this.users.findByEmailForAuth(email)) {
      throw new CliError(`a user ${email} exists already`);
    }
    let password: string;
    let generated = false;
    if (values['password-stdin'] === true) {
      if (!this.io.readStdin) {
        throw new CliError('--password-stdin: no standard input');
      }
      password = (await this.io.readStdin()).replace(/\r?\n$/, '');
    } else {
      password = randomBytes(18).toString('base64url');
      generated = true;
    }
    const problem = passwordProblem(password, email);
    if (problem) {
      throw new CliError(`password refused: ${problem}`);
    }
    const displayName = (values['name'] as string | undefined)?.trim() || email;
    const user = await this.users.create({ email, displayName, passwordHash: await hashSecret(password), locale, ...owner }, this.actor);
    this.io.out(`user ${user.id} (${user.email}, ${user.role}${owner.partnerId ? `, partner ${owner.partnerId}` : `, account ${owner.accountId}`})`);
    if (generated) {
      this.io.out(`password (shown once, store it now): ${password}`);
    }
  }

  async partnerCreate(values: Record<string, unknown>): Promise<void> {
    const name = required(values, 'name');
    const partner = await this.accounts.createPartner(name, this.actor);
    this.io.out(`partner ${partner.id} (${partner.name})`);
    await this.createKey({ accountId: null, partnerId: partner.id, role: 'PARTNER_ADMIN', name: (values['key-name'] as string | undefined) ?? `${name} admin` });
  }

  async tenantCreate(values: Record<string, unknown>): Promise<void> {
    const partnerId = uuid(values, 'partner');
    if (!(await this.accounts.findPartner(partnerId))) {
      throw new CliError(`partner ${partnerId} not found`);
    }
    const account = await this.accounts.create({ name: required(values, 'name'), partnerId, monitorOnly: values['advanced'] !== true }, this.actor);
    this.io.out(`account ${account.id} (${account.name}) under partner ${partnerId}, ${account.monitorOnly ? 'monitor-only' : 'advanced'}`);
    this.io.out(`journal token ${account.journalToken}`);
  }

  async accountsList(values: Record<string, unknown>): Promise<void> {
    const visibility = values['partner'] === undefined ? ({ all: true } as const) : { partnerId: uuid(values, 'partner') };
    const accounts = await this.accounts.list(visibility, { limit: 10_000 });
    for (const account of accounts) {
      this.io.out([account.id, account.partnerId ?? '-', account.monitorOnly ? 'monitor-only' : 'advanced', account.name].join('\t'));
    }
    this.io.out(`${accounts.length} account(s)`);
  }

  async keyCreate(values: Record<string, unknown>): Promise<void> {
    if (values['partner'] !== undefined) {
      const partnerId = uuid(values, 'partner');
      if (!(await this.accounts.findPartner(partnerId))) {
        throw new CliError(`partner ${partnerId} not found`);
      }
      await this.createKey({ accountId: null, partnerId, role: 'PARTNER_ADMIN', name: (values['name'] as string | undefined) ?? 'partner admin' });
      return;
    }
    const accountId = uuid(values, 'account');
    const account = await this.accounts.find(accountId);
    if (!account) {
      throw new CliError(`account ${accountId} not found`);
    }
    const role = (values['role'] as string | undefined) ?? 'TENANT_ADMIN';
    if (role !== 'TENANT_ADMIN' && role !== 'READ_ONLY') {
      throw new CliError('--role must be TENANT_ADMIN or READ_ONLY (partner keys: --partner <id>)');
    }
    await this.createKey({ accountId, partnerId: account.partnerId, role, name: (values['name'] as string | undefined) ?? role.toLowerCase().replace('_', ' ') });
  }

  async keyRevoke(positionals: readonly string[]): Promise<void> {
    const given = positionals[0]?.trim();
    if (!given) {
      throw new CliError('key revoke needs a key id, prefix or key');
    }
    const prefix = parseApiKey(given)?.prefix ?? (/^[a-z0-9]{12}$/.test(given) ? given : null);
    const id = isUuid(given) ? given : prefix ? (await this.apiKeys.findForAuth(prefix))?.id : undefined;
    const revoked = id ? await this.apiKeys.revoke({ any: true }, id, this.actor) : null;
    if (!revoked) {
      throw new CliError(`no key ${given}`);
    }
    this.io.out(`key ${revoked.id} (${revoked.prefix}, ${revoked.name}) revoked at ${revoked.revokedAt!.toISOString()}`);
  }

  async journalSet(values: Record<string, unknown>): Promise<void> {
    const accountId = uuid(values, 'account');
    const list = values['source-ips'];
    if (list !== undefined && values['any-source'] === true) {
      throw new CliError('--source-ips and --any-source exclude each other');
    }
    const sourceIps = values['any-source'] === true ? [] : typeof list === 'string' ? list.split(',').filter((entry) => entry.trim() !== '') : undefined;
    if (typeof list === 'string' && sourceIps!.length === 0) {
      // An empty list means "any address": say so explicitly rather than by an empty or mistyped value.
      throw new CliError('--source-ips is empty: name at least one range, or use --any-source to accept any address');
    }
    const requireTls = flag(values['require-tls'], 'require-tls');
    if (sourceIps === undefined && requireTls === undefined) {
      throw new CliError('journal set needs --source-ips, --any-source or --require-tls');
    }
    const account = await this.journal.set(accountId, { sourceIps, requireTls }, this.actor);
    this.io.out(`account ${account.id}: journal source ${account.journalSourceIps.length > 0 ? account.journalSourceIps.join(', ') : 'any'}; require TLS ${account.journalRequireTls}`);
  }

  private async createKey(input: { accountId: string | null; partnerId: string | null; role: 'PARTNER_ADMIN' | 'TENANT_ADMIN' | 'READ_ONLY'; name: string }): Promise<void> {
    const { key, plaintext } = await this.apiKeys.create(input, this.actor);
    this.io.out(`key ${key.id} (${key.role}, ${key.name})`);
    this.io.out(`api key (shown once, store it now): ${plaintext}`);
  }
}

const OPTIONS = {
  name: { type: 'string' },
  'key-name': { type: 'string' },
  partner: { type: 'string' },
  account: { type: 'string' },
  role: { type: 'string' },
  advanced: { type: 'boolean' },
  'source-ips': { type: 'string' },
  'any-source': { type: 'boolean' },
  'require-tls': { type: 'string' },
  email: { type: 'string' },
  locale: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Runs one command; resolves to the exit code (0 done, 1 refused or failed, 2 usage). */
export async function runCli(argv: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true });
  } catch (error) {
    io.err((error as Error).message);
    io.err(USAGE);
    return 2;
  }
  const [group, action, ...rest] = parsed.positionals;
  const command = action === undefined || group === 'migrate' ? group : `${group} ${action}`;
  if (parsed.values.help || command === undefined || command === 'help') {
    io.out(USAGE);
    return command === undefined && !parsed.values.help ? 2 : 0;
  }
  const { DATABASE_URL } = loadConfig('admin-api', env);
  if (command === 'migrate') {
    try {
      await migrateDatabase(DATABASE_URL, io.out);
      return 0;
    } catch (error) {
      io.err(error instanceof MigrationError ? `migrate refused: ${error.message}` : `migrate failed: ${(error as Error).message}`);
      return 1;
    }
  }
  const prisma = new PrismaService({ databaseUrl: DATABASE_URL, poolSize: 2 });
  const commands = new Commands(prisma, io, { actor: `cli:${userInfo().username}@${hostname()}`, actorKeyId: null });
  const run: Record<string, () => Promise<void>> = {
    'partner create': () => commands.partnerCreate(parsed.values),
    'tenant create': () => commands.tenantCreate(parsed.values),
    'accounts list': () => commands.accountsList(parsed.values),
    'key create': () => commands.keyCreate(parsed.values),
    'key revoke': () => commands.keyRevoke(rest),
    'journal set': () => commands.journalSet(parsed.values),
    'user create': () => commands.userCreate(parsed.values),
  };
  try {
    const handler = run[command];
    if (!handler) {
      io.err(`unknown command: ${command}`);
      io.err(USAGE);
      return 2;
    }
    await handler();
    return 0;
  } catch (error) {
    if (error instanceof CliError || error instanceof AccountRuleException) {
      io.err(error.message);
      return 1;
    }
    io.err(`failed: ${(error as Error).message}`);
    return 1;
  } finally {
    await prisma.$disconnect();
  }
}
