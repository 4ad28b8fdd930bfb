// Micro-benchmark of named prepared statements on the hot path (tools/bench/README.md, "Named prepared statements
// on the hot path"): npm run -s build && node tools/bench/micro/prepared-hot-statements.mjs [messagesPerBlock] [blocks] [aheadDays]
// A/B, same process, interleaved blocks (A B B A …): the journal store (MessageRepository.storeIncoming), the verdict
// write (saveVerdicts) and the gateway's store (DeliveryRepository.storeProcessed), each run through the repositories
// on a pool of ONE connection, with its statement sent unnamed (`query(text, values)`: Parse, Bind, Execute every
// time) or named (`query({ name, text, values })`: Parse once per connection). node-postgres' Client.query is wrapped
// here so that both modes run the same code whatever sql.ts does. Per statement: the CPU of the PostgreSQL backend
// (/proc/<pg_backend_pid()>/schedstat, ns) and of this process (process.cpuUsage), and the bytes written to the
// socket. Then the cached plans' memory in the backend (the three, and the journal stores of 1..64 copies), the
// gateway's store in group commits of 1..8 from cold connections, and the planning and execution time of each
// statement (EXPLAIN (ANALYZE, SUMMARY) in a rolled-back transaction), custom plan and generic plan. Needs PostgreSQL on the same host (DATABASE_URL's server, default
// 127.0.0.1): it creates its own database, migrated with the repo's migrator, and drops it at the end.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { microDatabase } from './micro-database.mjs';
const require = createRequire(import.meta.url);
const pg = require('pg');
const db = require('@mailwarden/db');
const { Prisma } = db;

const perBlock = Number(process.argv[2] ?? 200);
const blocks = Number(process.argv[3] ?? 8);
// Day partitions to create ahead of today (retention keeps ~30 days behind it in production; the migration makes a few).
const aheadDays = Number(process.argv[4] ?? 0);
// Which hot statement a text is (its opening is enough), and the mode the wrapper sends it in.
const kindOf = (text) =>
  text.includes('INSERT INTO "recipient_delivery"') ? 'gateway store' : text.includes('"claimed" AS') ? 'verdict write' : text.startsWith('WITH "raw" AS') ? 'journal store' : null;
let mode = 'unnamed';
const sent = { 'journal store': [], 'verdict write': [], 'gateway store': [] };
const bytes = { value: 0 };
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (config, values, callback) {
  const text = typeof config === 'string' ? config : config?.text;
  const kind = typeof text === 'string' ? kindOf(text) : null;
  if (kind) {
    const args = typeof config === 'string' ? values : config.values;
    sent[kind] = [text, args];
    if (mode === 'capture') {
      const error = new Error('captured');
      const cb = typeof values === 'function' ? values : callback;
      if (cb) return void setImmediate(() => cb(error));
      return Promise.reject(error);
    }
    const stream = this.connection.stream;
    if (!stream.__counted) {
      const write = stream.write;
      stream.write = function (chunk, ...rest) {
        bytes.value += chunk.length;
        return write.call(this, chunk, ...rest);
      };
      stream.__counted = true;
    }
    const named = { text, values: args, ...(mode === 'named' ? { name: `mw_${createHash('sha1').update(text).digest('hex').slice(0, 20)}` } : {}) };
    return query.call(this, named, typeof values === 'function' ? values : callback);
  }
  return query.call(this, config, values, callback);
};

const { name, url, prisma, partitions, backendPid: pid, drop } = await microDatabase('prepared', { aheadDays });
try {
  const [{ version }] = await db.sqlQuery(prisma, Prisma.sql`SELECT current_setting('server_version') AS "version"`);
  const backendNs = () => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
  const account = await prisma.account.create({ data: { name: 'micro', monitorOnly: true, journalToken: `j-${name}`, journalSourceIps: [], journalRequireTls: false } });
  const messages = new db.MessageRepository(prisma, new db.PostgresRawMessageStore());
  const delivery = new db.DeliveryRepository(prisma, new db.PostgresRawMessageStore());
  const line = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0';
  let serial = 0;
  const input = (source) => {
    const n = ++serial;
    const raw = Buffer.from(`From: a@sender.example\r\nTo: b@acme.example\r\nSubject: micro ${n}\r\nMessage-ID: <${n}@sender.example>\r\n\r\n${Array.from({ length: 262 }, () => line).join('\r\n')}\r\n`);
    return {
      accountId: account.id, source, direction: 'INBOUND', envelopeFrom: 'a@sender.example', envelopeTo: ['b@acme.example'], headerFrom: 'a@sender.example',
      subject: `micro ${n}`, messageIdHeader: `<${n}@sender.example>`, clientIp: '127.0.0.1', helo: 'sender.example', dedupKey: `<${n}@sender.example>\nb@acme.example`,
      metadata: { journal: true }, raw, scanAttemptCounted: source === 'JOURNAL',
    };
  };
  const verdict = { recipient: 'b@acme.example', checks: { spf: 'pass', dkim: 'pass', dmarc: 'pass', arc: 'none' }, failedCheck: null, decidedAction: 'DELIVER', appliedAction: null, enforced: false, reasons: [] };
  const steps = {
    'journal store': async (pending) => pending.push((await messages.storeIncoming(input('JOURNAL'))).message),
    'verdict write': async (pending) => messages.saveVerdicts({ id: pending.shift().id, accountId: account.id }, [verdict]),
    'gateway store': async () =>
      delivery.storeProcessed(input('GATEWAY'), [verdict], 'SCANNED', [{ recipient: 'b@acme.example', action: 'DELIVER', state: 'QUEUED' }], { claimLeaseMs: 60_000 }),
  };
  const sums = {};
  const block = async (blockMode, count) => {
    mode = blockMode;
    const pending = [];
    for (const [kind, step] of Object.entries(steps)) {
      const [pg0, node0, bytes0] = [backendNs(), process.cpuUsage(), bytes.value];
      for (let i = 0; i < count; i++) await step(pending);
      const node = process.cpuUsage(node0);
      const sum = (sums[`${kind}|${blockMode}`] ??= { pg: 0, node: 0, bytes: 0, n: 0 });
      sum.pg += backendNs() - pg0;
      sum.node += (node.user + node.system) * 1000;
      sum.bytes += bytes.value - bytes0;
      sum.n += count;
    }
  };
  await block('unnamed', 50);
  await block('named', 50);
  for (const key of Object.keys(sums)) delete sums[key];
  for (let b = 0; b < blocks; b++) await block(b % 4 === 0 || b % 4 === 3 ? 'unnamed' : 'named', perBlock);

  console.log(`PostgreSQL ${version}, ${partitions} partitions of "message"; ${blocks} blocks of ${perBlock} messages, A B B A …; per statement (µs CPU, bytes sent):`);
  console.log('statement       | PG unnamed | PG named | PG saved | Node unnamed | Node named | bytes unnamed | bytes named');
  for (const kind of Object.keys(steps)) {
    const [a, b] = [sums[`${kind}|unnamed`], sums[`${kind}|named`]];
    const us = (sum, field) => sum[field] / sum.n / 1000;
    console.log(
      `${kind.padEnd(15)} | ${us(a, 'pg').toFixed(0).padStart(10)} | ${us(b, 'pg').toFixed(0).padStart(8)} | ${(us(a, 'pg') - us(b, 'pg')).toFixed(0).padStart(8)} | ${us(a, 'node').toFixed(0).padStart(12)} | ${us(b, 'node').toFixed(0).padStart(10)} | ${(a.bytes / a.n).toFixed(0).padStart(13)} | ${(b.bytes / b.n).toFixed(0).padStart(11)}`,
    );
  }

  // Planning vs execution, custom plan (the parameters' values known to the planner) and generic plan (what a named
  // statement runs after 5 executions when plan_cache_mode = auto finds it no costlier); rolled back.
  // What the named statements cost the backend in memory, and which plan plan_cache_mode = auto chose for them; then
  // the worst case of the bounded set: the journal store of every group-commit size, 1 to 64 copies (small copies),
  // each run 6 times (a generic plan is considered from the 6th).
  const plans = async () => ({
    statements: await db.sqlQuery(prisma, Prisma.sql`SELECT left("statement", 40) AS "text", "generic_plans"::int AS "generic", "custom_plans"::int AS "custom" FROM pg_prepared_statements ORDER BY "prepare_time"`),
    memory: await db.sqlQuery(prisma, Prisma.sql`SELECT count(*)::int AS "contexts", (sum("total_bytes") / 1024)::int AS "kib" FROM pg_backend_memory_contexts WHERE "name" IN ('CachedPlan', 'CachedPlanSource', 'CachedPlanQuery')`),
  });
  mode = 'named';
  const afterBlocks = await plans();
  console.log(`\nnamed statements on the connection after the blocks: ${afterBlocks.statements.length}, cached plan memory ${afterBlocks.memory[0].kib} KiB in ${afterBlocks.memory[0].contexts} contexts`);
  for (const row of afterBlocks.statements) console.log(`  ${row.text.replace(/\s+/g, ' ')}… generic plans ${row.generic}, custom plans ${row.custom}`);
  const small = () => ({ ...input('JOURNAL'), raw: Buffer.from(`Subject: small ${serial}\r\n\r\nbody`) });
  const growth = [];
  for (let size = 1; size <= 64; size++) {
    for (let i = 0; i < 6; i++) await messages.storeIncomingMany(Array.from({ length: size }, small));
    if ([1, 2, 4, 8, 16, 32].includes(size)) growth.push(`1..${size}: ${(await plans()).memory[0].kib} KiB`);
  }
  console.log(`cached plan memory with the journal stores of 1..N copies named: ${growth.join(', ')}`);
  const worst = await plans();
  const stores = worst.statements.filter((row) => row.text.startsWith('WITH "raw"'));
  console.log(
    `after journal stores of 1..64 copies: ${worst.statements.length} named statements, cached plan memory ${worst.memory[0].kib} KiB; store statements on a generic plan: ${stores.filter((row) => row.generic > 0).length} of ${stores.length}`,
  );

  // The gateway's store as the bench runs it: group commits of 1 to 8 messages (one text each), on a connection that
  // starts cold (a new pool per block), 8 statements of each size per block: its first 5 of each size plan afresh.
  const coldBlock = async (blockMode) => {
    mode = blockMode;
    const client = db.createPrismaClient({ databaseUrl: url.toString(), poolSize: 1 });
    await client.$connect(); // so that $disconnect ends its pool
    const store = new db.DeliveryRepository(client, new db.PostgresRawMessageStore());
    try {
      const [{ pid: coldPid }] = await db.sqlQuery(client, Prisma.sql`SELECT pg_backend_pid() AS "pid"`);
      const cpu = () => Number(readFileSync(`/proc/${coldPid}/schedstat`, 'utf8').split(' ')[0]);
      const [pg0, node0] = [cpu(), process.cpuUsage()];
      let count = 0;
      for (let round = 0; round < 8; round++) {
        for (let size = 1; size <= 8; size++) {
          const writes = Array.from({ length: size }, () => ({
            input: input('GATEWAY'), verdicts: [verdict], status: 'SCANNED', copies: [{ recipient: 'b@acme.example', action: 'DELIVER', state: 'QUEUED' }], claimLeaseMs: 60_000,
          }));
          await store.storeProcessedMany(writes);
          count += size;
        }
      }
      const node = process.cpuUsage(node0);
      const sum = (sums[`cold|${blockMode}`] ??= { pg: 0, node: 0, n: 0 });
      sum.pg += cpu() - pg0;
      sum.node += (node.user + node.system) * 1000;
      sum.n += count;
    } finally {
      await client.$disconnect();
    }
  };
  for (let b = 0; b < blocks; b++) await coldBlock(b % 4 === 0 || b % 4 === 3 ? 'unnamed' : 'named');
  const [coldA, coldB] = [sums['cold|unnamed'], sums['cold|named']];
  console.log(
    `gateway store in group commits of 1..8 from a cold connection (${coldA.n + coldB.n} messages): PG µs per message unnamed ${(coldA.pg / coldA.n / 1000).toFixed(0)}, named ${(coldB.pg / coldB.n / 1000).toFixed(0)}; Node ${(coldA.node / coldA.n / 1000).toFixed(0)} / ${(coldB.node / coldB.n / 1000).toFixed(0)}`,
  );

  // Fresh statements of each kind, captured but not run (a store's values must not be stored yet; the verdict write's
  // message must be pending).
  mode = 'unnamed';
  const pendingMessage = (await messages.storeIncoming(input('JOURNAL'))).message;
  mode = 'capture';
  await steps['journal store']([]).catch(() => undefined);
  await steps['verdict write']([pendingMessage]).catch(() => undefined);
  await steps['gateway store']().catch(() => undefined);
  mode = 'unnamed';
  const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
  pool.on('error', () => undefined);
  // EXPLAIN takes no parameters in PostgreSQL 15: the values go in as literals to EXECUTE of a PREPAREd statement.
  const literal = (value) => {
    const v = require('pg/lib/utils').prepareValue(value);
    return v === null ? 'NULL' : Buffer.isBuffer(v) ? `'\\x${v.toString('hex')}'` : pg.Client.prototype.escapeLiteral(String(v));
  };
  const explain = async (text, values, generic) => {
    const client = await pool.connect();
    const planning = [];
    const execution = [];
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL plan_cache_mode = ${generic ? 'force_generic_plan' : 'force_custom_plan'}`);
      await client.query(`PREPARE micro_statement AS ${text}`);
      for (let i = 0; i < 5; i++) {
        await client.query('SAVEPOINT micro');
        const plan = await client.query(`EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) EXECUTE micro_statement(${values.map(literal).join(', ')})`);
        await client.query('ROLLBACK TO SAVEPOINT micro');
        const [root] = plan.rows[0]['QUERY PLAN'];
        planning.push(root['Planning Time']);
        execution.push(root['Execution Time']);
      }
      return { planning, execution };
    } finally {
      await client.query('ROLLBACK');
      await client.query('DEALLOCATE ALL');
      client.release();
    }
  };
  console.log('\nstatement       | text bytes | custom: planning ms, execution ms | generic: planning ms, execution ms (median of 5)');
  const median = (list) => [...list].sort((x, y) => x - y)[Math.floor(list.length / 2)];
  for (const kind of Object.keys(steps)) {
    const [text, values] = sent[kind];
    const figures = [];
    for (const generic of [false, true]) {
      const { planning, execution } = await explain(text, values, generic);
      // The generic plan is made by the first execution, then reused: its later planning times are the cache's.
      figures.push(`${median(planning).toFixed(3)}${generic ? ` (first ${planning[0].toFixed(3)})` : ''}, ${median(execution).toFixed(3)}`);
    }
    console.log(`${kind.padEnd(15)} | ${String(Buffer.byteLength(text)).padStart(10)} | ${figures[0].padStart(33)} | ${figures[1]}`);
  }
  await pool.end();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await drop();
}
