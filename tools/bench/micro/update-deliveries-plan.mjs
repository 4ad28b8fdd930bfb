// Micro-benchmark of the delivery outcome's statement (DeliveryRepository.updateDeliveries → mw_update_deliveries)
// with the function's plan_cache_mode as migration 20261211100000 sets it (force_generic_plan) and without (auto)
// (tools/bench/README.md, "The delivery outcome's plans"):
// npm run -s build && node tools/bench/micro/update-deliveries-plan.mjs [messagesPerBlock] [blocks] [aheadDays]
// One pool connection; interleaved blocks (A B B A …), the function's setting changed (ALTER FUNCTION … SET / RESET)
// before each block. Per call: the PostgreSQL backend's CPU (/proc/<pid>/schedstat).
// Each message is stored first (DeliveryRepository.storeProcessed, one QUEUED copy, as the gateway does), outside
// the measured part. Needs PostgreSQL on the same host; creates its own database and drops it at the end.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { microDatabase } from './micro-database.mjs';
const require = createRequire(import.meta.url);
const db = require('@mailwarden/db');
const { Prisma } = db;

const perBlock = Number(process.argv[2] ?? 300);
const blocks = Number(process.argv[3] ?? 8);
const aheadDays = Number(process.argv[4] ?? 0);
const { name, prisma, partitions, backendPid: pid, drop } = await microDatabase('deliveries', { aheadDays });
try {
  const backendNs = () => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
  const account = await prisma.account.create({ data: { name: 'micro', monitorOnly: false, journalToken: `j-${name}`, journalSourceIps: [], journalRequireTls: false } });
  const delivery = new db.DeliveryRepository(prisma, new db.PostgresRawMessageStore());
  let serial = 0;
  const input = () => {
    const n = ++serial;
    return {
      accountId: account.id, source: 'GATEWAY', direction: 'INBOUND', envelopeFrom: 'a@sender.example', envelopeTo: ['b@acme.example'], headerFrom: 'a@sender.example',
      subject: `micro ${n}`, messageIdHeader: `<${n}@sender.example>`, clientIp: '127.0.0.1', helo: 'sender.example', dedupKey: `<${n}@sender.example>\nb@acme.example`,
      metadata: {}, raw: Buffer.from(`Subject: micro ${n}\r\n\r\nbody\r\n`), scanAttemptCounted: false,
    };
  };
  const verdict = { recipient: 'b@acme.example', checks: { spf: 'pass', dkim: 'pass', dmarc: 'pass', arc: 'none' }, failedCheck: null, decidedAction: 'DELIVER', appliedAction: null, enforced: false, reasons: [] };
  const sums = { auto: { pg: 0, n: 0 }, force_generic_plan: { pg: 0, n: 0 } };
  const block = async (mode, count, measure = true) => {
    await db.sqlQuery(prisma, Prisma.raw(mode === 'auto' ? `ALTER FUNCTION "mw_update_deliveries" RESET plan_cache_mode` : `ALTER FUNCTION "mw_update_deliveries" SET plan_cache_mode = ${mode}`));
    const ids = [];
    for (let i = 0; i < count; i++) {
      const stored = await delivery.storeProcessed(input(), [verdict], 'SCANNED', [{ recipient: 'b@acme.example', action: 'DELIVER', state: 'QUEUED' }], { claimLeaseMs: 60_000 });
      ids.push(stored.id);
    }
    const pg0 = backendNs();
    for (const id of ids) {
      await delivery.updateDeliveries(id, ['b@acme.example'], { state: 'DELIVERED', reply: '250 2.0.0 queued', attempted: true, downstream: 'sink' });
    }
    if (measure) {
      sums[mode].pg += backendNs() - pg0;
      sums[mode].n += count;
    }
  };
  await block('auto', 50, false);
  await block('force_generic_plan', 50, false);
  for (let b = 0; b < blocks; b++) await block(b % 4 === 0 || b % 4 === 3 ? 'auto' : 'force_generic_plan', perBlock);
  const us = (mode) => (sums[mode].pg / sums[mode].n / 1000).toFixed(0);
  console.log(`${partitions} partitions of "message"; ${blocks} blocks of ${perBlock} calls, A B B A …; PostgreSQL backend CPU per updateDeliveries: auto ${us('auto')} µs, force_generic_plan ${us('force_generic_plan')} µs`);
  const [check] = await db.sqlQuery(prisma, Prisma.sql`SELECT count(*) FILTER (WHERE "state" = 'DELIVERED')::int AS "delivered", count(*)::int AS "copies" FROM "recipient_delivery"`);
  console.log(`copies delivered ${check.delivered} of ${check.copies}`);
} finally {
  await drop();
}
