import { bool, cleanEnv, makeValidator, num, port, str, url, type ReporterOptions } from 'envalid';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
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

/** `host:port[,host:port…]` of Redis Cluster seed nodes, or empty. */
const redisClusterNodes = makeValidator<string>((value) => {
  for (const node of value.split(',').map((entry) => entry.trim()).filter(Boolean)) {
    const match = /^(\[[0-9a-f:.]+\]|[^\s:,[\]]+):(\d{1,5})$/i.exec(node);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      throw new Error(`"${node}" is not host:port`);
    }
  }
  return value.trim();
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

const optionalSecret = makeValidator<string>((value) => {
  if (value !== '' && value.length < 32) {
    throw new Error('must be at least 32 characters (e.g. openssl rand -base64 32)');
  }
  return value;
});

/** A PEM private key file that can sign ARC sets: RSA of 1024 bits or more (RFC 8301; 2048 advised) or Ed25519 (RFC 8463). */
const signingKeyFile = makeValidator<string>((value) => {
  if (value === '') {
    return value;
  }
  let text: string;
  try {
    text = readFileSync(value, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${value}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(text);
  } catch {
    throw new Error(`${value} does not hold a PEM private key`);
  }
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 1024) {
    return value;
  }
  if (key.asymmetricKeyType === 'ed25519') {
    return value;
  }
  throw new Error(`${value} must hold an RSA key of 1024 bits or more (2048 advised) or an Ed25519 key`);
});

/** A DNS name usable as a DKIM/ARC d= domain or s= selector (RFC 6376 3.1: dot-separated labels). */
const dnsLabels = makeValidator<string>((value) => {
  if (value !== '' && !/^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(value)) {
    throw new Error('must be a DNS name (letters, digits, hyphens, dot-separated labels)');
  }
  return value.toLowerCase();
});

/** Comma-separated IPv4/IPv6 addresses or CIDR ranges (Exchange Online's SenderIPAddresses syntax), lower-cased. */
const ipRangeList = makeValidator<string>((value) => {
  const items = value.split(',').map((item) => item.trim()).filter(Boolean);
  for (const item of items) {
    const [address, bits, extra] = item.split('/');
    const family = isIP(address ?? '');
    const max = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined || (bits !== undefined && (!/^\d{1,3}$/.test(bits) || Number(bits) > max))) {
      throw new Error(`'${item}' is not an IP address or CIDR range (e.g. 203.0.113.0/24, 2001:db8::/48)`);
    }
  }
  return items.join(',').toLowerCase();
});

/** A whole number of at least 1 (a count that must allow something). */
const positiveInt = makeValidator<number>((value) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    throw new Error(`'${value}' is not a whole number of at least 1`);
  }
  return parsed;
});

/** A whole number of at least 0 (a bound where 0 means "none": e.g. no copy waits for an in-process scan). */
const nonNegativeInt = makeValidator<number>((value) => {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isInteger(parsed) || parsed < 0) {
    throw new Error(`'${value}' is not a whole number of at least 0`);
  }
  return parsed;
});

/** A whole number from 1 to `max` (a batch size: each batch is one statement, so it must stay bounded). */
const batchSize = (max: number) =>
  makeValidator<number>((value) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isInteger(parsed) || parsed < 1 || parsed > max) {
      throw new Error(`'${value}' is not a whole number from 1 to ${max}`);
    }
    return parsed;
  });

/** A finite number above 0, fractions allowed (a rate per second). */
const positiveNumber = makeValidator<number>((value) => {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0) {
    throw new Error(`'${value}' is not a number above 0`);
  }
  return parsed;
});

/** A number of at least 0, fractions allowed (a bound in seconds). */
const nonNegativeNumber = makeValidator<number>((value) => {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) {
    throw new Error(`'${value}' is not a number of at least 0`);
  }
  return parsed;
});

/** One IPv4 or IPv6 address; '' for none. */
const ipAddress = makeValidator<string>((value) => {
  if (value !== '' && isIP(value) === 0) {
    throw new Error(`'${value}' is not an IP address`);
  }
  return value;
});

const commonSpec = {
  DATABASE_URL: postgresUrl({ default: 'postgresql://postgres@127.0.0.1:5432/mailwarden', desc: 'PostgreSQL connection URL' }),
  DATABASE_POOL_SIZE: num({ default: 10, desc: 'PostgreSQL connections per process' }),
  REDIS_URL: redisUrl({ default: 'redis://127.0.0.1:6379', desc: 'Redis connection URL (BullMQ queues)' }),
  REDIS_PREFIX: str({ default: 'mw', desc: 'Key prefix for every queue in Redis' }),
  REDIS_CLUSTER_NODES: redisClusterNodes({ default: '', desc: 'Redis Cluster seed nodes (host:port, comma-separated); empty: REDIS_URL is one server. Credentials and TLS come from REDIS_URL' }),
  LOG_LEVEL: str({ default: 'log', choices: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] }),
  LOG_FORMAT: str({ default: 'json', choices: ['json', 'text'] }),
  HOST: str({ default: '0.0.0.0', desc: 'Address every listener of this app binds to' }),
};

/** How long processed messages stay readable (the scanner keeps them, the admin API serves them). */
const emergencyInboxDays = num({ default: 14, desc: 'How long processed messages stay readable in the emergency inbox (days)' });

/** The resolver of the sender checks (scanner), domain verification and migration MX checks (admin API). */
const dnsSpec = {
  DNS_TIMEOUT_MS: num({ default: 5000, desc: 'Per-lookup DNS timeout' }),
  DNS_SERVERS: str({ default: '', desc: 'Comma-separated resolvers (ip or ip:port); empty: the system resolvers' }),
};

const journalIngestSpec = {
  ...commonSpec,
  JOURNAL_SMTP_PORT: port({ default: 2525 }),
  JOURNAL_HTTP_PORT: port({ default: 9101, desc: '/health and /metrics of the journal ingest' }),
  JOURNAL_DOMAIN: str({ default: 'journal.mailwarden.local', desc: 'Host part of every account journal address' }),
  INGEST_COMMIT_MAX_BATCH: positiveInt({ default: 64, desc: 'Journal copies committed in one PostgreSQL transaction at most (group commit of concurrent SMTP sessions)' }),
  SMTP_HOSTNAME: str({ default: 'mailwarden.local', desc: 'Name the SMTP servers announce' }),
  SMTP_MAX_MESSAGE_SIZE: byteSize({ default: 52428800, desc: 'Largest message accepted (SIZE)' }),
  SMTP_MAX_CONNECTIONS: num({ default: 200, desc: 'Concurrent SMTP connections per process' }),
  SMTP_MAX_CONNECTIONS_PER_CLIENT: num({ default: 50, desc: 'Concurrent SMTP connections from one client address' }),
  SMTP_MAX_RECIPIENTS: num({ default: 1000, desc: 'Recipients per SMTP transaction; more are answered 452 4.5.3' }),
  SMTP_MAX_MESSAGES_PER_MINUTE_PER_CLIENT: num({ default: 6000, desc: 'Messages one client address may send per minute' }),
  SMTP_SOCKET_TIMEOUT_MS: num({ default: 60000, desc: 'Idle SMTP connections are closed after this long (slow clients)' }),
  SMTP_TLS_KEY_FILE: str({ default: '', desc: 'PEM key for STARTTLS; empty: a self-signed one is generated' }),
  SMTP_TLS_CERT_FILE: str({ default: '', desc: 'PEM certificate for STARTTLS' }),
  // Issue 20: one Node thread per process; several processes on one host share the SMTP port (Linux SO_REUSEPORT).
  SMTP_REUSE_PORT: bool({
    default: false,
    desc: 'Listen on the SMTP port with SO_REUSEPORT (Linux) so that several processes of this app on one host share it, the kernel spreading connections among them; every process on the port must set it, each with its own HTTP port',
  }),
  // Issue 20: the ingest scans the copies it stored itself, after the 250; the scan queue is the fallback.
  INGEST_INLINE_SCAN: bool({
    default: true,
    desc: 'Scan each stored journal copy in this process right after its commit and 250 (on), or leave every scan to the scanner workers through the scan queue (off)',
  }),
  // A scan spends most of its time waiting (DNS, the verdict's group commit), not computing: at 4 the backlog filled at
  // full load with the process's CPU to spare (tools/bench/README.md, "In-process scans at once").
  INGEST_INLINE_SCAN_CONCURRENCY: num({ default: 16, desc: 'In-process scans run at once (INGEST_INLINE_SCAN on)' }),
  INGEST_INLINE_SCAN_BACKLOG: nonNegativeInt({ default: 256, desc: 'Stored copies waiting in memory for an in-process scan; past it (or past INGEST_INLINE_SCAN_BACKLOG_BYTES) a copy goes to the scan queue' }),
  INGEST_INLINE_SCAN_BACKLOG_BYTES: byteSize({ default: 33554432, desc: 'Raw bytes held by waiting and running in-process scans (`32mb`); a copy that would pass it goes to the scan queue' }),
  ...dnsSpec,
};

/** Mailwarden's own multi-tenant Microsoft app registration (clawback, directory sync); empty client id: off. */
const microsoft365Spec = {
  M365_CLIENT_ID: str({ default: '', desc: "Application (client) id of Mailwarden's multi-tenant Microsoft app registration; empty: Microsoft 365 is off" }),
  M365_CLIENT_SECRET: str({ default: '', desc: 'Client secret of that app (or use a certificate)' }),
  M365_CERTIFICATE_FILE: str({ default: '', desc: 'PEM certificate uploaded to the app registration (instead of a secret)' }),
  M365_PRIVATE_KEY_FILE: str({ default: '', desc: 'PEM RSA private key of that certificate' }),
  M365_LOGIN_BASE_URL: url({ default: 'https://login.microsoftonline.com', desc: 'Microsoft identity platform (sovereign clouds: their own host)' }),
  M365_GRAPH_BASE_URL: url({ default: 'https://graph.microsoft.com', desc: 'Microsoft Graph (sovereign clouds: their own host)' }),
  M365_DIRECTORY_SYNC_MINUTES: num({ default: 360, desc: 'Minutes between scheduled directory syncs of each connected account' }),
  M365_EXCHANGE_BASE_URL: url({ default: 'https://outlook.office365.com', desc: 'Exchange Online REST (InvokeCommand; token scope <this>/.default; sovereign clouds: their own host)' }),
  MAILFLOW_QUICK_TEST_SOURCE_ADDRESS: ipAddress({ default: '', desc: "Local address the mailflow quick test sends from; must egress outside MAILFLOW_SCANNER_IP_RANGES (the transport rule lets mail from those through unrouted); empty: the system's choice" }),
};

/**
 * Mailflow set up by Mailwarden in Exchange Online (issue 16): where Exchange's outbound connector sends mail to the
 * scanner, and how Exchange's inbound connector recognises the scanner relaying it back. Empty host: the mailflow
 * plans keep their manual Exchange steps.
 */
const mailflowSpec = {
  MAILFLOW_SCANNER_HOST: dnsLabels({ default: '', desc: "Public host name of the scanner's SMTP front (the outbound connector's SmartHosts and TlsDomain); empty: Exchange setup stays manual" }),
  MAILFLOW_SCANNER_CERT_NAME: dnsLabels({ default: '', desc: 'Name in the TLS certificate the scanner presents when relaying to Exchange Online (inbound connector TlsSenderCertificateName); default: MAILFLOW_SCANNER_HOST' }),
  MAILFLOW_SCANNER_IP_RANGES: ipRangeList({ default: '', desc: "Comma-separated addresses / CIDR ranges the scanner relays from (its egress IPs): the inbound connector's SenderIPAddresses and the transport rule's loop exception (ExceptIfSenderIpRanges); required for the automated mailflow rule (without it that step fails and says to set it)" }),
};

/** `host`, `host:port`, `[IPv6]` or `[IPv6]:port` (port 25 when absent); '' for none. */
const smartHost = makeValidator<string>((value) => {
  const trimmed = value.trim();
  if (trimmed === '') {
    return '';
  }
  const match = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9.-]+))(?::(\d{1,5}))?$/i.exec(trimmed);
  const port = Number(match?.[3] ?? 25);
  if (!match || port < 1 || port > 65535) {
    throw new Error('expected host, host:port or [IPv6]:port');
  }
  return trimmed;
});

const scannerSpec = {
  ...journalIngestSpec,
  SCANNER_SMTP_PORT: port({ default: 2526 }),
  SCANNER_HTTP_PORT: port({ default: 9102, desc: '/health and /metrics of the scanner' }),
  SCANNER_ROLE: str({ default: 'all', choices: ['all', 'smtp', 'worker'], desc: 'Run the SMTP front, the workers, or both' }),
  SCAN_CONCURRENCY: num({ default: 8, desc: 'Scan jobs run at once per worker process' }),
  // Issue 20: with SCANNER_ROLE=all the gateway delivers what it stored itself, after the 250; the delivery queue is the fallback.
  GATEWAY_INLINE_DELIVERY: bool({
    default: true,
    desc: 'With SCANNER_ROLE=all: deliver each stored gateway message in this process right after its commit and 250 (on), or leave every delivery to the delivery queue (off)',
  }),
  GATEWAY_INLINE_DELIVERY_CONCURRENCY: num({ default: 8, desc: 'In-process deliveries run at once (GATEWAY_INLINE_DELIVERY on)' }),
  GATEWAY_INLINE_DELIVERY_BACKLOG: nonNegativeInt({ default: 256, desc: 'Stored messages waiting in memory for an in-process delivery; past it (or past GATEWAY_INLINE_DELIVERY_BACKLOG_BYTES) a message goes to the delivery queue' }),
  GATEWAY_INLINE_DELIVERY_BACKLOG_BYTES: byteSize({ default: 33554432, desc: 'Raw bytes held by waiting and running in-process deliveries (`32mb`); a message that would pass it goes to the delivery queue' }),
  EMERGENCY_INBOX_DAYS: emergencyInboxDays,
  // Issue 20: the purge of tenants with a shorter window than the day partitions, beside the message path.
  RETENTION_PURGE_BATCH: batchSize(10_000)({ default: 500, desc: 'Messages (or audit events, quarantine items) the retention purge deletes per statement' }),
  RETENTION_PURGE_RATE: positiveNumber({
    default: 200,
    desc: 'Rows the retention purge deletes per second at most (and it works at most half the time); must exceed what the shorter-window tenants receive a second on average',
  }),
  DNS_TIMEOUT_MS: dnsSpec.DNS_TIMEOUT_MS,
  DNS_SERVERS: dnsSpec.DNS_SERVERS,
  SECRETS_KEY: str({ default: '', desc: 'base64 32-byte key decrypting stored integration credentials (same as the admin API); empty: integrations are not polled' }),
  ...microsoft365Spec,
  ARC_SEAL_DOMAIN: dnsLabels({ default: '', desc: 'd= of the ARC sets the scanner adds to what it relays (RFC 8617); empty: no ARC sealing' }),
  ARC_SEAL_SELECTOR: dnsLabels({ default: '', desc: 's= of the ARC sets: the public key is published at <selector>._domainkey.<ARC_SEAL_DOMAIN>' }),
  ARC_SEAL_KEY_FILE: signingKeyFile({ default: '', desc: 'PEM private key of the ARC sets (RSA 2048 or Ed25519)' }),
  EXPORT_FILE_DIR: str({ default: 'var/export', desc: 'Folder under which NDJSON export destinations write (each in a sub-folder of its own)' }),
  EXPORT_BATCH_SIZE: num({ default: 500, desc: 'Events per SIEM export batch (one HEC request, one syslog connection, one file append)' }),
  EXPORT_LEASE_SECONDS: num({ default: 60, desc: 'How long an export worker holds a destination per batch; a dead worker lets go after it' }),
  // Outbound relay (issue 16): mail a tenant's own connector sends to outside recipients.
  OUTBOUND_SMART_HOST: smartHost({ default: '', desc: "Relay outbound mail (from a tenant's connector to outside recipients) through this host[:port]; empty: to each recipient domain's MX on port 25" }),
  OUTBOUND_SMART_HOST_REQUIRE_TLS: bool({ default: true, desc: 'STARTTLS is required towards OUTBOUND_SMART_HOST' }),
  OUTBOUND_SMART_HOST_VERIFY_CERT: bool({ default: true, desc: "OUTBOUND_SMART_HOST's certificate must verify" }),
};

/** The ARC sealing settings go together: all three set, or none (no sealing). */
const ARC_SEAL_SETTINGS = ['ARC_SEAL_DOMAIN', 'ARC_SEAL_SELECTOR', 'ARC_SEAL_KEY_FILE'] as const;

/** Issue 20: reads that may lag (history search, statistics) from a replica; loadConfig defaults it to DATABASE_URL. */
const readReplicaSpec = {
  DATABASE_READ_URL: makeValidator<string>((value) => postgresUrl()._parse(value))({
    default: '',
    desc: 'PostgreSQL read replica for history search and statistics (they may lag behind by the replication delay); empty: DATABASE_URL',
  }),
  DATABASE_READ_MAX_LAG_SECONDS: nonNegativeNumber({
    default: 30,
    desc: "A read replica further behind the primary than this (or not answering) is not read: history search and statistics read the primary until it catches up",
  }),
};

/** Sign-in for people (issue 18): session cookies and OpenID Connect. */
const oidcProviderId = makeValidator<string>((value) => {
  if (value !== '' && !/^[a-z0-9][a-z0-9-]{0,31}$/.test(value)) {
    throw new Error('must be a short lower-case name such as microsoft (letters, digits, dashes)');
  }
  return value;
});

const signInSpec = {
  SESSION_COOKIE_SECURE: bool({
    default: true,
    desc: 'Secure flag of the mw_session cookie. Keep true: Chromium and Firefox accept Secure cookies from http://localhost and http://127.0.0.1 too; false only for another plain-http host name',
  }),
  SESSION_IDLE_MINUTES: num({ default: 30, desc: 'A session unused this long ends' }),
  SESSION_MAX_HOURS: num({ default: 12, desc: 'A session ends this long after sign-in, used or not' }),
  OIDC_PROVIDER: oidcProviderId({ default: '', desc: 'Name of the OpenID Connect provider in URLs (/v1/auth/oidc/<name>/start); empty: OpenID Connect sign-in is off' }),
  OIDC_DISPLAY_NAME: str({ default: 'Microsoft', desc: 'What the sign-in page calls the provider' }),
  OIDC_ISSUER: str({ default: '', desc: 'Issuer URL (discovery at <issuer>/.well-known/openid-configuration), e.g. https://login.microsoftonline.com/<tenant id>/v2.0' }),
  OIDC_CLIENT_ID: str({ default: '', desc: 'Client id of Mailwarden at the provider' }),
  OIDC_CLIENT_SECRET: str({ default: '', desc: 'Client secret (client_secret_post); redirect URI to register: <PUBLIC_BASE_URL>/v1/auth/oidc/<OIDC_PROVIDER>/callback' }),
  OIDC_SCOPES: str({ default: 'openid profile email', desc: 'Scopes asked for' }),
  OIDC_MATCH_PREFERRED_USERNAME: bool({
    default: false,
    desc: 'Also match users by the preferred_username claim (Microsoft: the UPN). Only for a single-tenant issuer whose directory owns the addresses',
  }),
};

const adminApiSpec = {
  ...commonSpec,
  ADMIN_API_PORT: port({ default: 3000 }),
  JOURNAL_DOMAIN: journalIngestSpec.JOURNAL_DOMAIN,
  API_RATE_LIMIT_PER_MINUTE: num({ default: 600 }),
  API_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE: num({ default: 120, desc: 'Requests without a valid API key one client address may make per minute (more: 429)' }),
  SECRETS_KEY: str({ default: '', desc: 'base64 32-byte key encrypting stored integration credentials' }),
  CURSOR_SECRET: optionalSecret({
    default: '',
    desc: 'Key signing pagination cursors (32 characters or more, the same in every instance); empty: derived from SECRETS_KEY, or else random per process',
  }),
  ADMIN_API_OPS_ACCESS: str({
    default: 'public',
    choices: ['public', 'api-key', 'separate'],
    desc: '/docs, /docs-json and /metrics: public; behind any valid API key; or only on ADMIN_API_OPS_HOST:ADMIN_API_OPS_PORT',
  }),
  ADMIN_API_OPS_HOST: str({ default: '127.0.0.1', desc: 'Address of the operator listener (ADMIN_API_OPS_ACCESS=separate)' }),
  ADMIN_API_OPS_PORT: port({ default: 9103, desc: 'Port of the operator listener (ADMIN_API_OPS_ACCESS=separate)' }),
  EXPORT_FILE_DIR: scannerSpec.EXPORT_FILE_DIR,
  PUBLIC_BASE_URL: url({ default: 'http://127.0.0.1:3000' }),
  TRUST_PROXY: bool({ default: false }),
  ...microsoft365Spec,
  EMERGENCY_INBOX_DAYS: emergencyInboxDays,
  SCANNER_SMTP_HOST: str({ default: '127.0.0.1', desc: "Where the admin API reaches the scanner's SMTP front (the domain quick test sends through it)" }),
  SCANNER_SMTP_PORT: port({ default: 2526, desc: "Port of the scanner's SMTP front as the admin API reaches it" }),
  SMTP_HOSTNAME: journalIngestSpec.SMTP_HOSTNAME,
  ...dnsSpec,
  ...mailflowSpec,
  ARC_SEAL_DOMAIN: dnsLabels({ default: '', desc: "The scanner's ARC_SEAL_DOMAIN: the mailflow plans add it to Exchange Online's trusted ARC sealers; empty: no such step" }),
  ...readReplicaSpec,
  ...signInSpec,
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
  checkMicrosoft365Credential(picked);
  if ('DATABASE_READ_URL' in picked && !picked.DATABASE_READ_URL) {
    picked.DATABASE_READ_URL = picked.DATABASE_URL;
  }
  checkOidcSettings(picked);
  if (app === 'scanner') {
    const missing = ARC_SEAL_SETTINGS.filter((name) => !picked[name]);
    if (missing.length > 0 && missing.length < ARC_SEAL_SETTINGS.length) {
      throw new ConfigError(Object.fromEntries(missing.map((name) => [name, `must be set too: ARC sealing needs ${ARC_SEAL_SETTINGS.join(', ')}`])));
    }
  }
  if (app === 'journal-ingest' && picked.INGEST_INLINE_SCAN && !((picked.INGEST_INLINE_SCAN_CONCURRENCY as number) >= 1)) {
    throw new ConfigError({ INGEST_INLINE_SCAN_CONCURRENCY: 'must be 1 or more when INGEST_INLINE_SCAN is on (off: INGEST_INLINE_SCAN=off)' });
  }
  if (app === 'scanner' && picked.SCANNER_ROLE === 'all' && picked.GATEWAY_INLINE_DELIVERY && !((picked.GATEWAY_INLINE_DELIVERY_CONCURRENCY as number) >= 1)) {
    throw new ConfigError({ GATEWAY_INLINE_DELIVERY_CONCURRENCY: 'must be 1 or more when GATEWAY_INLINE_DELIVERY is on (off: GATEWAY_INLINE_DELIVERY=off)' });
  }
  if (app === 'admin-api' && !picked.MAILFLOW_SCANNER_HOST && (picked.MAILFLOW_SCANNER_CERT_NAME || picked.MAILFLOW_SCANNER_IP_RANGES)) {
    throw new ConfigError({ MAILFLOW_SCANNER_HOST: 'is required when MAILFLOW_SCANNER_CERT_NAME or MAILFLOW_SCANNER_IP_RANGES is set (the mailflow connectors need all of them)' });
  }
  return Object.freeze(picked) as unknown as ConfigFor[A];
}

/** OpenID Connect sign-in on (OIDC_PROVIDER): its issuer (an https URL, or http on this machine) and client id are needed. */
function checkOidcSettings(settings: Record<string, unknown>): void {
  if (!settings.OIDC_PROVIDER) {
    return;
  }
  const problems: Record<string, string> = {};
  let issuer: URL | null = null;
  try {
    issuer = new URL(String(settings.OIDC_ISSUER));
  } catch {
    problems.OIDC_ISSUER = 'must be the provider\'s issuer URL when OIDC_PROVIDER is set';
  }
  if (issuer && issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname))) {
    problems.OIDC_ISSUER = 'must be an https:// URL (plain http only on 127.0.0.1 or localhost)';
  }
  if (!settings.OIDC_CLIENT_ID) {
    problems.OIDC_CLIENT_ID = 'must be set when OIDC_PROVIDER is set';
  }
  if (Object.keys(problems).length > 0) {
    throw new ConfigError(problems);
  }
}

/** With a Microsoft app configured, exactly one credential: a client secret, or a certificate with its key. */
function checkMicrosoft365Credential(settings: Record<string, unknown>): void {
  if (!settings.M365_CLIENT_ID) {
    return;
  }
  const secret = Boolean(settings.M365_CLIENT_SECRET);
  const certificate = Boolean(settings.M365_CERTIFICATE_FILE);
  const key = Boolean(settings.M365_PRIVATE_KEY_FILE);
  if (secret && (certificate || key)) {
    throw new ConfigError({ M365_CLIENT_SECRET: 'is set together with M365_CERTIFICATE_FILE / M365_PRIVATE_KEY_FILE: configure one credential' });
  }
  if (!secret && !(certificate && key)) {
    throw new ConfigError({
      [certificate ? 'M365_PRIVATE_KEY_FILE' : key ? 'M365_CERTIFICATE_FILE' : 'M365_CLIENT_SECRET']: 'is required when M365_CLIENT_ID is set (a client secret, or a certificate file with its private key file)',
    });
  }
}

/** The variables one app reads, with defaults and descriptions (README table, `--help`). */
export function describeConfig(app: AppName): Array<{ name: string; default: unknown; description: string }> {
  return Object.entries(SPECS[app]).map(([name, validator]) => {
    const spec = validator as unknown as { default?: unknown; desc?: string };
    return { name, default: spec.default, description: spec.desc ?? '' };
  });
}
