import { randomBytes, createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Client } from 'pg';
import { loadConfig } from '@mailwarden/config';
import { drainBatches, Prisma, RetentionRepository, type PrismaClient, type PrismaService } from '@mailwarden/db';
import { JOURNAL_RECIPIENT_DOMAIN } from './bench-env';
import { readCpuMs } from './processes';
import { summarize, type LatencySummary } from './stats';

const SEED_BATCH = 50_000;
/** One seeded message every 7 seconds, newest first, unless the largest history must be squeezed to fit the window. */
const SEED_SPACING_SECONDS = 7;
/** The seeded history stays inside the default 30-day history window (search shows no older message, issue 20). */
const SEED_SPAN_SECONDS = 28 * 86_400;

/**
 * Seconds between two seeded messages so that `largest` seeded messages all fall inside the tenant's history window:
 * 7 s (100k span 8 days), or less for larger histories (1M: 2.4 s, 10M: 0.24 s; 10M in 28 days is 357k a day).
 * Before, 1M spanned 81 days, so most of it lay outside the 30-day window that search applies.
 */
export function seedSpacingSeconds(largest: number): number {
  return Math.min(SEED_SPACING_SECONDS, SEED_SPAN_SECONDS / Math.max(1, largest));
}
const SEED_RECIPIENTS = 2000;
const SEED_SENDERS = 5000;

/** A seeded message's fields as functions of its sequence number g (the SQL below writes the same). */
export const seeded = {
  recipient: (g: number) => `user${g % SEED_RECIPIENTS}@${JOURNAL_RECIPIENT_DOMAIN}`,
  sender: (g: number) => `sender${g % SEED_SENDERS}@partner${g % 100}.example`,
  subjectWord: (g: number) => `order ${g}`,
};

/**
 * Adds `count` stored, scanned messages (one verdict each) to the account straight in PostgreSQL, in batches of
 * INSERT ... SELECT generate_series. Verdict checks, reasons and message metadata are copied from a real row of
 * this run when there is one, so rows have their real width; every row shares one raw message (the raw store is
 * not what history searches read). Ends with VACUUM ANALYZE and a checkpoint: a history that grew over months has
 * its statistics and visibility map, and the next measurement should not pay for the seeding's own WAL and vacuum.
 */
export async function seedHistory(pg: Client, accountId: string, fromSequence: number, count: number, spacingSeconds: number, log: (line: string) => void): Promise<void> {
  const template = await pg.query<{ checks: unknown; reasons: unknown; metadata: unknown }>(
    'SELECT v.checks, v.reasons, m.metadata FROM verdict v JOIN message m ON m.id = v.message_id ORDER BY v.created_at DESC LIMIT 1',
  );
  const { checks = [], reasons = [], metadata = {} } = template.rows[0] ?? {};
  const raw = randomBytes(20 * 1024);
  const rawRow = await pg.query<{ id: string }>('INSERT INTO raw_message (content, size, sha256) VALUES ($1, $2, $3) RETURNING id', [raw, raw.length, createHash('sha256').update(raw).digest('hex')]);
  const started = performance.now();
  for (let start = fromSequence; start < fromSequence + count; start += SEED_BATCH) {
    const end = Math.min(start + SEED_BATCH, fromSequence + count) - 1;
    await pg.query(
      `WITH m AS (
         INSERT INTO message (account_id, source, direction, envelope_from, envelope_to, header_from, subject, message_id_header, size,
                              client_ip, helo, received_at, raw_message_id, scan_status, scanned_at, delivery_state, metadata)
         SELECT $1::uuid, 'JOURNAL'::"MessageSource", 'INBOUND'::"MessageDirection",
                'sender' || (g % ${SEED_SENDERS}) || '@partner' || (g % 100) || '.example',
                ARRAY['user' || (g % ${SEED_RECIPIENTS}) || '@${JOURNAL_RECIPIENT_DOMAIN}'],
                'sender' || (g % ${SEED_SENDERS}) || '@partner' || (g % 100) || '.example',
                'Invoice ' || (g % 10000) || ' for order ' || g,
                '<seed-' || g || '@partner' || (g % 100) || '.example>',
                20480, '203.0.113.7', 'mail.partner.example',
                now() - make_interval(secs => g * ${spacingSeconds}::float8), $2::uuid,
                'SCANNED'::"ScanStatus", now() - make_interval(secs => g * ${spacingSeconds}::float8), 'NOT_APPLICABLE'::"DeliveryState", $3::jsonb
           FROM generate_series($4::int, $5::int) AS g
         RETURNING id, envelope_to[1] AS recipient, received_at
       )
       INSERT INTO verdict (message_id, recipient, checks, decided_action, enforced, reasons, created_at)
       SELECT id, recipient, $6::jsonb, 'DELIVER'::"PolicyAction", false, $7::jsonb, received_at FROM m`,
      [accountId, rawRow.rows[0]!.id, JSON.stringify(metadata), start, end, JSON.stringify(checks), JSON.stringify(reasons)],
    );
    log(`  seeded ${end + 1 - fromSequence}/${count} messages (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  await pg.query('VACUUM (ANALYZE) message, verdict');
  // CHECKPOINT needs a superuser (or pg_checkpoint): without one, the next run pays for the seeding's WAL.
  await pg.query('CHECKPOINT').catch((error: Error) => log(`  no CHECKPOINT after seeding (${error.message})`));
}

export interface SearchFigures {
  all: LatencySummary;
  byFilter: Record<string, LatencySummary>;
  failures: number;
}

/**
 * Message-history searches through the admin API (GET /v1/accounts/:id/messages, first page of 50), cycling
 * through the filters an admin uses: recipient, sender, a one-day window, subject text. One warm-up request first
 * (the key's first use pays its scrypt check).
 */
export async function measureSearches(options: { baseUrl: string; accountId: string; apiKey: string; searches: number; seededMessages: number; spacingSeconds: number }): Promise<SearchFigures> {
  const headers = { authorization: `Bearer ${options.apiKey}` };
  const url = (query: Record<string, string>) => `${options.baseUrl}/v1/accounts/${options.accountId}/messages?${new URLSearchParams(query)}`;
  const pick = () => Math.floor(Math.random() * options.seededMessages);
  const filters: Record<string, () => Record<string, string>> = {
    recipient: () => ({ recipient: seeded.recipient(pick()) }),
    sender: () => ({ sender: seeded.sender(pick()) }),
    dateRange: () => {
      const end = Date.now() - pick() * options.spacingSeconds * 1000;
      return { from: new Date(end - 86_400_000).toISOString(), to: new Date(end).toISOString() };
    },
    subject: () => ({ subject: seeded.subjectWord(pick()) }),
  };
  await fetch(url({ limit: '1' }), { headers }).then((response) => response.arrayBuffer());
  const timings: Record<string, number[]> = Object.fromEntries(Object.keys(filters).map((name) => [name, []]));
  let failures = 0;
  const names = Object.keys(filters);
  for (let index = 0; index < options.searches; index++) {
    const name = names[index % names.length]!;
    const began = performance.now();
    const response = await fetch(url(filters[name]!()), { headers });
    await response.arrayBuffer();
    if (response.status === 200) {
      timings[name]!.push(performance.now() - began);
    } else {
      failures++;
    }
  }
  return {
    all: summarize(Object.values(timings).flat()),
    byFilter: Object.fromEntries(Object.entries(timings).map(([name, values]) => [name, summarize(values)])),
    failures,
  };
}

/**
 * A second tenant with `count` stored, scanned messages received `ageDays` ago and more, each with its own 20 KB of
 * raw bytes and a verdict: what the retention purge deletes when that tenant's window is shorter than the others'.
 */
export async function seedExpiredTenant(pg: Client, accountId: string, count: number, ageDays: number, log: (line: string) => void): Promise<void> {
  const raw = randomBytes(20 * 1024);
  const started = performance.now();
  const batch = 5000;
  for (let start = 0; start < count; start += batch) {
    const end = Math.min(start + batch, count) - 1;
    await pg.query(
      `WITH r AS (
         INSERT INTO raw_message (content, size, sha256, created_at)
         SELECT $2::bytea || int4send(g), 20484, md5(g::text), now() - make_interval(days => $3::int, secs => g) FROM generate_series($4::int, $5::int) AS g
         RETURNING id, created_at),
       m AS (
         INSERT INTO message (account_id, source, direction, envelope_from, envelope_to, subject, size, received_at, raw_message_id, scan_status, scanned_at)
         SELECT $1::uuid, 'JOURNAL'::"MessageSource", 'INBOUND'::"MessageDirection", 'old@partner.example', ARRAY['user@${JOURNAL_RECIPIENT_DOMAIN}'],
                'Expired', 20484, r.created_at, r.id, 'SCANNED'::"ScanStatus", r.created_at
         FROM r RETURNING id, received_at)
       INSERT INTO verdict (message_id, recipient, checks, decided_action, enforced, reasons, created_at)
       SELECT id, 'user@${JOURNAL_RECIPIENT_DOMAIN}', '[]'::jsonb, 'DELIVER'::"PolicyAction", false, '[]'::jsonb, received_at FROM m`,
      [accountId, raw, ageDays, start, end],
    );
  }
  await pg.query('VACUUM (ANALYZE) message, raw_message, verdict');
  log(`  seeded ${count} expired messages of 20 KB for the purge (${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

/**
 * The retention purge of one tenant whose window is shorter than the others' (RetentionRepository's batched delete,
 * paced by `drainBatches` at the scanner's RETENTION_PURGE_BATCH / RETENTION_PURGE_RATE, read from this process's
 * environment as the scanner reads them), until none of its messages is older than `cutoff`. Also the CPU its
 * PostgreSQL backend spent per purged message (`/proc`, so only with PostgreSQL on this host).
 */
export async function purgeTenant(prisma: PrismaClient, accountId: string, cutoff: Date): Promise<Record<string, unknown>> {
  const { RETENTION_PURGE_BATCH: batchSize, RETENTION_PURGE_RATE: rowsPerSecond } = loadConfig('scanner');
  const retention = new RetentionRepository(prisma as PrismaService);
  const started = performance.now();
  let purged = 0;
  let batches = 0;
  let backendCpuMs: number | null = 0;
  for (;;) {
    const done = await retention.withLock(async (run) => {
      const [backend] = await run<{ pid: number }>(Prisma.sql`SELECT pg_backend_pid() AS "pid"`);
      const cpuBefore = readCpuMs(backend!.pid);
      const drained = await drainBatches(
        async () => {
          const counts = await retention.purgeTenantMessages(run, { accountId, history: cutoff, raw: cutoff, quarantine: cutoff, auditLog: cutoff }, batchSize);
          purged += counts.messages;
          return counts.batch;
        },
        { batchSize, rowsPerSecond },
        { maxBatches: Number.MAX_SAFE_INTEGER },
      );
      batches += drained.batches;
      const cpuAfter = readCpuMs(backend!.pid);
      backendCpuMs = backendCpuMs === null || cpuBefore === null || cpuAfter === null ? null : backendCpuMs + cpuAfter - cpuBefore;
      return drained.complete;
    });
    if (done) {
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 200)); // a scanner's own retention run holds the lock
  }
  const purgeSeconds = (performance.now() - started) / 1000;
  return {
    purgedMessages: purged,
    purgeBatches: batches,
    purgeSeconds,
    purgeMessagesPerSec: purged / purgeSeconds,
    purgeBatchSize: batchSize,
    purgeRowsPerSecond: rowsPerSecond,
    purgeBackendCpuMsPerMessage: backendCpuMs === null || purged === 0 ? null : backendCpuMs / purged,
  };
}
