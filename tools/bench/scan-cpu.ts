import { performance } from 'node:perf_hooks';
import { CachingDnsResolver, checkSender, verifyDkim, ZoneDnsResolver, type DnsZone } from '@mailwarden/sender-checks';
import { evaluateMessage, type MessageToEvaluate } from '@mailwarden/scanning';
import { benchZone, buildCorpus, generateSigningKey, ORIGIN_IP, SENDER, SENDER_DOMAIN } from './messages';

/**
 * The Node CPU of one scan without PostgreSQL, Redis or SMTP (issue 20): the bench's 20 KB DKIM-signed originals
 * through `evaluateMessage` with the sender checks behind the production caching resolver (answers from the bench
 * zone), one message at a time, CPU from `process.cpuUsage` (user + system, so GC counts). On a shared machine this is
 * the figure to compare before and after a change: it does not move with other processes' load the way rates do.
 *
 *   node dist/tools/bench/scan-cpu.js [messages=2000] [rounds=3]
 */
const RECIPIENT = 'bob@journal.bench.test';

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 2000);
  const rounds = Number(process.argv[3] ?? 3);
  const key = generateSigningKey();
  const originals = await buildCorpus(count, { sizeBytes: 20 * 1024, recipient: RECIPIENT, key });
  const zone = new ZoneDnsResolver(benchZone(key) as DnsZone);
  const dns = new CachingDnsResolver({ lookup: async (name, rrtype) => ({ records: await zone.resolve(name, rrtype) }) });
  const resolver = dns.resolve;

  // One policy context for the run, as ScanContextCache shares the account's policy rows between messages.
  const policyContext: MessageToEvaluate['policyContext'] = {
    accountId: 'bench',
    partnerId: null,
    domainIds: new Map([['journal.bench.test', 'domain']]),
    mailboxes: new Map(),
    policies: [],
  };
  const toEvaluate = (raw: Buffer): MessageToEvaluate => ({
    raw,
    direction: 'INBOUND',
    envelopeFrom: SENDER,
    envelopeTo: [RECIPIENT],
    headerFrom: SENDER,
    clientIp: ORIGIN_IP,
    helo: `mail.${SENDER_DOMAIN}`,
    accountDomains: ['journal.bench.test'],
    enforced: false,
    policyContext,
  });
  const parts: Record<string, (raw: Buffer) => Promise<unknown>> = {
    'evaluateMessage (checks + policy)': async (raw) => {
      const evaluation = await evaluateMessage(toEvaluate(raw), (input) => checkSender(input, { resolver }));
      if (evaluation.status !== 'SCANNED' || evaluation.verdicts[0]?.failedCheck !== null) {
        throw new Error(`unexpected evaluation: ${JSON.stringify(evaluation.verdicts[0])}`);
      }
    },
    'verifyDkim alone (mailauth DKIM)': (raw) => verifyDkim(raw, { resolver, envelopeSender: SENDER }),
  };
  for (const [name, run] of Object.entries(parts)) {
    for (const raw of originals.slice(0, Math.min(200, count))) {
      await run(raw); // warm-up: JIT, DNS cache
    }
    const perMessage: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const cpu = process.cpuUsage();
      const started = performance.now();
      for (const raw of originals) {
        await run(raw);
      }
      const used = process.cpuUsage(cpu);
      perMessage.push((used.user + used.system) / count);
      const wall = ((performance.now() - started) * 1000) / count;
      console.log(`${name}: round ${round + 1}: ${perMessage.at(-1)!.toFixed(0)} µs CPU/msg (wall ${wall.toFixed(0)} µs)`);
    }
    perMessage.sort((a, b) => a - b);
    // On a loaded machine the least is the steadiest figure: other processes only ever add to it (caches, frequency).
    console.log(`${name}: least ${perMessage[0]!.toFixed(0)}, median ${perMessage[Math.floor(perMessage.length / 2)]!.toFixed(0)} µs CPU per message over ${rounds} x ${count}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
