import { bool, cleanEnv, makeValidator, num, port, str, url, type ReporterOptions } from 'envalid';
import { ConfigError } from './config-error';

export type AppName = 'journal-ingest' | 'scanner' | 'admin-api';

const postgresUrl = makeValidator<string>((value) => {
  const parsed = new URL(value);
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') {
    throw new Error('must be a postgresql:// URL');
  }
  return value;
});

const redisUrl = makeValidator<string>((value) => {
  const parsed = new URL(value);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error('must be a redis:// or rediss:// URL');
  }
  return value;
});

const byteSize = makeValidator<number>((value) => {
  const match = /^(\d+)\s*(b|kb|k|mb|m|gb|g)?$/i.exec(value.trim());
  if (!match) {
    throw new Error('must be a size such as 52428800, 512kb or 50mb');
  }
  const unit = (match[2] ?? 'b').toLowerCase()[0];
  const factor = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(match[1]) * factor;
});

const commonSpec = {
  DATABASE_URL: postgresUrl({ default: 'postgresql://postgres@127.0.0.1:5432/mailwarden', desc: 'PostgreSQL connection URL' }),
  DATABASE_POOL_SIZE: num({ default: 10, desc: 'PostgreSQL connections per process' }),
  REDIS_URL: redisUrl({ default: 'redis://127.0.0.1:6379', desc: 'Redis connection URL (BullMQ queues)' }),
  REDIS_PREFIX: str({ default: 'mw', desc: 'Key prefix for every queue in Redis' }),
  LOG_LEVEL: str({ default: 'log', choices: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] }),
  LOG_FORMAT: str({ default: 'json', choices: ['json', 'text'] }),
  HOST: str({ default: '0.0.0.0', desc: 'Address every listener of this app binds to' }),
};

const journalIngestSpec = {
  ...commonSpec,
  JOURNAL_SMTP_PORT: port({ default: 2525 }),
  JOURNAL_HTTP_PORT: port({ default: 9101, desc: '/health and /metrics of the journal ingest' }),
  JOURNAL_DOMAIN: str({ default: 'journal.mailwarden.local', desc: 'Host part of every account journal address' }),
  SMTP_HOSTNAME: str({ default: 'mailwarden.local', desc: 'Name the SMTP servers announce' }),
  SMTP_MAX_MESSAGE_SIZE: byteSize({ default: 52428800, desc: 'Largest message accepted (SIZE)' }),
  SMTP_MAX_CONNECTIONS: num({ default: 200, desc: 'Concurrent SMTP connections per process' }),
  SMTP_MAX_CONNECTIONS_PER_CLIENT: num({ default: 50, desc: 'Concurrent SMTP connections from one client address' }),
  SMTP_MAX_MESSAGES_PER_MINUTE_PER_CLIENT: num({ default: 6000, desc: 'Messages one client address may send per minute' }),
  SMTP_SOCKET_TIMEOUT_MS: num({ default: 60000, desc: 'Idle SMTP connections are closed after this long (slow clients)' }),
  SMTP_TLS_KEY_FILE: str({ default: '', desc: 'PEM key for STARTTLS; empty: a self-signed one is generated' }),
  SMTP_TLS_CERT_FILE: str({ default: '', desc: 'PEM certificate for STARTTLS' }),
};

const scannerSpec = {
  ...journalIngestSpec,
  SCANNER_SMTP_PORT: port({ default: 2526 }),
  SCANNER_HTTP_PORT: port({ default: 9102, desc: '/health and /metrics of the scanner' }),
  SCANNER_ROLE: str({ default: 'all', choices: ['all', 'smtp', 'worker'], desc: 'Run the SMTP front, the workers, or both' }),
  SCAN_CONCURRENCY: num({ default: 8, desc: 'Scan jobs run at once per worker process' }),
  EMERGENCY_INBOX_DAYS: num({ default: 14 }),
  DNS_TIMEOUT_MS: num({ default: 5000 }),
  DNS_SERVERS: str({ default: '', desc: 'Comma-separated resolvers (ip or ip:port) for the sender checks; empty: the system resolvers' }),
  SECRETS_KEY: str({ default: '', desc: 'base64 32-byte key decrypting stored integration credentials (same as the admin API); empty: integrations are not polled' }),
  EXPORT_FILE_DIR: str({ default: 'var/export', desc: 'Folder under which NDJSON export destinations write (each in a sub-folder of its own)' }),
  EXPORT_BATCH_SIZE: num({ default: 500, desc: 'Events per SIEM export batch (one HEC request, one syslog connection, one file append)' }),
  EXPORT_LEASE_SECONDS: num({ default: 60, desc: 'How long an export worker holds a destination per batch; a dead worker lets go after it' }),
};

const adminApiSpec = {
  ...commonSpec,
  ADMIN_API_PORT: port({ default: 3000 }),
  JOURNAL_DOMAIN: journalIngestSpec.JOURNAL_DOMAIN,
  API_RATE_LIMIT_PER_MINUTE: num({ default: 600 }),
  SECRETS_KEY: str({ default: '', desc: 'base64 32-byte key encrypting stored integration credentials' }),
  EXPORT_FILE_DIR: scannerSpec.EXPORT_FILE_DIR,
  PUBLIC_BASE_URL: url({ default: 'http://127.0.0.1:3000' }),
  TRUST_PROXY: bool({ default: false }),
};

const SPECS = {
  'journal-ingest': journalIngestSpec,
  scanner: scannerSpec,
  'admin-api': adminApiSpec,
} as const;

type Cleaned<S> = { readonly [K in keyof S]: S[K] extends { _parse: (input: string) => infer T } ? T : never };

export type JournalIngestConfig = Cleaned<typeof journalIngestSpec>;
export type ScannerConfig = Cleaned<typeof scannerSpec>;
export type AdminApiConfig = Cleaned<typeof adminApiSpec>;
export type CommonConfig = Cleaned<typeof commonSpec>;

export interface ConfigFor {
  'journal-ingest': JournalIngestConfig;
  scanner: ScannerConfig;
  'admin-api': AdminApiConfig;
}

function throwingReporter({ errors }: ReporterOptions<Record<string, unknown>>): void {
  const problems: Record<string, string> = {};
  for (const [name, error] of Object.entries(errors)) {
    if (error) {
      problems[name] = error.message ? `is invalid: ${error.message}` : 'is invalid';
    }
  }
  if (Object.keys(problems).length > 0) {
    throw new ConfigError(problems);
  }
}

/**
 * Reads and validates one app's settings, once, at start. Every setting has a local default,
 * so a fresh checkout needs none; a bad value throws a ConfigError that names the variable.
 */
export function loadConfig<A extends AppName>(app: A, env: NodeJS.ProcessEnv = process.env): ConfigFor[A] {
  const spec = SPECS[app];
  // Empty strings count as unset, as in most twelve-factor tooling.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const cleaned = cleanEnv(present, spec, { reporter: throwingReporter });
  const picked = Object.fromEntries(Object.keys(spec).map((key) => [key, (cleaned as Record<string, unknown>)[key]]));
  return Object.freeze(picked) as unknown as ConfigFor[A];
}

/** The variables one app reads, with defaults and descriptions (README table, `--help`). */
export function describeConfig(app: AppName): Array<{ name: string; default: unknown; description: string }> {
  return Object.entries(SPECS[app]).map(([name, validator]) => {
    const spec = validator as unknown as { default?: unknown; desc?: string };
    return { name, default: spec.default, description: spec.desc ?? '' };
  });
}
