import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as senderChecks from '@mailwarden/sender-checks';
import type { DnsZone } from '@mailwarden/sender-checks';
import { evaluateMessage, type MessageToEvaluate } from '@mailwarden/scanning';
import { benchZone, buildCorpus, generateSigningKey, ORIGIN_IP, SENDER, SENDER_DOMAIN, type SigningKey } from './messages';

/**
 * The Node CPU of one scan without PostgreSQL, Redis or SMTP (issue 20): the bench's 20 KB DKIM-signed originals
 * through `evaluateMessage` with the sender checks behind the production caching resolver (answers from the bench
 * zone), one message at a time, CPU from `process.cpuUsage` (user + system, so GC counts). On a shared machine this is
 * the figure to compare before and after a change: it does not move with other processes' load the way rates do.
 *
 *   node dist/tools/bench/scan-cpu.js [messages=2000] [rounds=3] [--compare <a build of libs/sender-checks>]
 *
 * `--compare` takes another build of the sender checks (a copy of libs/sender-checks/dist, e.g. main's, under the
 * git-ignored tmp/ so that it finds node_modules: `--compare tmp/sender-checks-main`) and runs it in the same process
 * as this one, batches of 100 messages alternating between the two, so that both see the same load on a shared
 * machine (the before → after of issue-20k, tools/bench/README.md "DKIM stream on native searches").
 */
const RECIPIENT = 'bob@journal.bench.test';
const BATCH = 100;

type SenderChecks = Pick<typeof senderChecks, 'CachingDnsResolver' | 'checkSender' | 'verifyDkim' | 'ZoneDnsResolver'>;

function partsOf(label: string, checks: SenderChecks, key: SigningKey): Record<string, (raw: Buffer) => Promise<unknown>> {
  const zone = new checks.ZoneDnsResolver(benchZone(key) as DnsZone);
  const dns = new checks.CachingDnsResolver({ lookup: async (name, rrtype) => ({ records: await zone.resolve(name, rrtype) }) });
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
  return {
    [`evaluateMessage (checks + policy)${label}`]: async (raw) => {
      const evaluation = await evaluateMessage(toEvaluate(raw), (input) => checks.checkSender(input, { resolver }));
      if (evaluation.status !== 'SCANNED' || evaluation.verdicts[0]?.failedCheck !== null) {
        throw new Error(`unexpected evaluation: ${JSON.stringify(evaluation.verdicts[0])}`);
      }
    },
    [`verifyDkim alone (mailauth DKIM)${label}`]: async (raw) => {
      const dkim = await checks.verifyDkim(raw, { resolver, envelopeSender: SENDER });
      if (dkim.results?.[0]?.status.result !== 'pass') {
        throw new Error(`unexpected DKIM result: ${JSON.stringify(dkim.results?.[0]?.status)}`);
      }
    },
  };
}

async function main(): Promise<void> {
  const compareAt = process.argv.indexOf('--compare');
  const compare = compareAt >= 0 ? process.argv[compareAt + 1] : undefined;
  const [countArg, roundsArg] = process.argv.slice(2).filter((arg, index, args) => arg !== '--compare' && args[index - 1] !== '--compare');
  const count = Number(countArg ?? 2000);
  const rounds = Number(roundsArg ?? 3);
  const key = generateSigningKey();
  const originals = await buildCorpus(count, { sizeBytes: 20 * 1024, recipient: RECIPIENT, key });
  if (compare) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a build chosen at run time
    const other = require(path.resolve(compare)) as SenderChecks;
    await alternating({ ...partsOf(' [this build]', senderChecks, key), ...partsOf(` [${compare}]`, other, key) }, originals, rounds);
    return;
  }
  for (const [name, run] of Object.entries(partsOf('', senderChecks, key))) {
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
    summary(name, perMessage, rounds, count);
  }
}

/** Every part, a batch of messages each in turn, so that all of them see the same load. */
async function alternating(parts: Record<string, (raw: Buffer) => Promise<unknown>>, originals: Buffer[], rounds: number): Promise<void> {
  for (const run of Object.values(parts)) {
    for (const raw of originals.slice(0, Math.min(200, originals.length))) {
      await run(raw); // warm-up: JIT, DNS cache
    }
  }
  const perMessage = new Map(Object.keys(parts).map((name) => [name, [] as number[]]));
  for (let round = 0; round < rounds; round++) {
    const used = new Map(Object.keys(parts).map((name) => [name, 0]));
    for (let from = 0; from < originals.length; from += BATCH) {
      for (const [name, run] of Object.entries(parts)) {
        const cpu = process.cpuUsage();
        for (const raw of originals.slice(from, from + BATCH)) {
          await run(raw);
        }
        const spent = process.cpuUsage(cpu);
        used.set(name, used.get(name)! + spent.user + spent.system);
      }
    }
    for (const [name, micros] of used) {
      perMessage.get(name)!.push(micros / originals.length);
      console.log(`${name}: round ${round + 1}: ${(micros / originals.length).toFixed(0)} µs CPU/msg`);
    }
  }
  for (const [name, values] of perMessage) {
    summary(name, values, rounds, originals.length);
  }
}

function summary(name: string, perMessage: number[], rounds: number, count: number): void {
  perMessage.sort((a, b) => a - b);
  // On a loaded machine the least is the steadiest figure: other processes only ever add to it (caches, frequency).
  console.log(`${name}: least ${perMessage[0]!.toFixed(0)}, median ${perMessage[Math.floor(perMessage.length / 2)]!.toFixed(0)} µs CPU per message over ${rounds} x ${count}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
