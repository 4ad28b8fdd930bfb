import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { summarize, type LatencySummary } from './stats';

export interface CheckResult {
  sent: number;
  checked: number;
  failures: number;
  durationMs: number;
  msgsPerSec: number;
  latencyMs: LatencySummary;
  startedAt: number;
  /** How many replies carried each symbol: proves the checks ran and passed on the bench DNS. */
  symbols: Record<string, number>;
}

/** Symbols whose counts are kept: the results of the four checks. */
const KEPT = /^(R_DKIM_|R_SPF_|DMARC_|ARC_)/;

/**
 * Feeds messages to rspamd's HTTP /checkv2 from `connections` parallel keep-alive connections (as the SMTP load
 * client does with its connections), with the envelope a journal copy's origin hop had: client IP, HELO, sender.
 */
export async function runRspamdChecks(options: {
  port: number;
  connections: number;
  messages: readonly Buffer[];
  ip: string;
  helo: string;
  from: string;
  rcpt: string;
}): Promise<CheckResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  const symbols: Record<string, number> = {};
  let failures = 0;
  let next = 0;
  const startedAt = Date.now();
  const started = performance.now();
  let ended = started;
  const check = (message: Buffer) =>
    new Promise<Record<string, unknown> | null>((resolve) => {
      const req = request(
        {
          agent,
          host: '127.0.0.1',
          port: options.port,
          method: 'POST',
          path: '/checkv2',
          headers: { 'Content-Length': message.length, IP: options.ip, Helo: options.helo, From: options.from, Rcpt: options.rcpt, Hostname: options.helo },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            try {
              resolve(response.statusCode === 200 ? (JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>) : null);
            } catch {
              resolve(null);
            }
          });
          response.on('error', () => resolve(null));
        },
      );
      req.on('error', () => resolve(null));
      req.end(message);
    });
  const sender = async () => {
    for (let index = next++; index < options.messages.length; index = next++) {
      const began = performance.now();
      const reply = await check(options.messages[index]!);
      ended = Math.max(ended, performance.now());
      if (!reply) {
        failures++;
        continue;
      }
      latencies.push(performance.now() - began);
      for (const name of Object.keys((reply.symbols as Record<string, unknown> | undefined) ?? {})) {
        if (KEPT.test(name)) symbols[name] = (symbols[name] ?? 0) + 1;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.connections }, sender));
  } finally {
    agent.destroy();
  }
  const durationMs = ended - started;
  return {
    sent: options.messages.length,
    checked: latencies.length,
    failures,
    durationMs,
    msgsPerSec: durationMs > 0 ? (latencies.length * 1000) / durationMs : 0,
    latencyMs: summarize(latencies),
    startedAt,
    symbols,
  };
}
