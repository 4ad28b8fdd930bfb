import { performance } from 'node:perf_hooks';
import { CONNECTION_LOST, SmtpConnection, type SmtpJob, type SmtpReply } from './smtp-client';
import { summarize, type LatencySummary } from './stats';

export interface LoadOptions {
  port: number;
  /** Parallel connections (each runs one transaction at a time). */
  connections: number;
  /** Reuse a connection for many transactions, or open a new one (EHLO included) per message. */
  reuse: boolean;
  jobs: readonly SmtpJob[];
  /** Fixed offered rate (messages per second) instead of as fast as the server answers. */
  ratePerSecond?: number;
  heloName?: string;
}

/** One accepted message: when its 250 arrived (epoch ms) and the reply text (it names the stored message). */
export interface Acceptance {
  index: number;
  at: number;
  text: string;
}

export interface LoadResult {
  sent: number;
  accepted: number;
  /** Refusals by reply code; "conn" for connections lost or refused. */
  failures: Record<string, number>;
  /** From the first MAIL FROM to the last final reply, ms. */
  durationMs: number;
  msgsPerSec: number;
  /** Per accepted transaction, from MAIL FROM to the reply to the end of DATA (connection set-up excluded). */
  latencyMs: LatencySummary;
  startedAt: number;
  endedAt: number;
  acceptances: Acceptance[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends every job over real SMTP on 127.0.0.1 from `connections` parallel senders and measures each transaction.
 * A refused message is counted by its reply code and not retried; a lost connection is re-opened.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const heloName = options.heloName ?? 'client.sender.bench.test';
  const latencies: number[] = [];
  const acceptances: Acceptance[] = [];
  const failures: Record<string, number> = {};
  const fail = (key: string) => (failures[key] = (failures[key] ?? 0) + 1);
  let next = 0;
  const startedAt = Date.now();
  const startedPerf = performance.now();
  let endedPerf = startedPerf;

  const sender = async (): Promise<void> => {
    let connection: SmtpConnection | undefined;
    try {
      for (let index = next++; index < options.jobs.length; index = next++) {
        if (options.ratePerSecond) {
          const due = startedPerf + (index * 1000) / options.ratePerSecond;
          const wait = due - performance.now();
          if (wait > 0) {
            await sleep(wait);
          }
        }
        if (!connection?.isOpen) {
          try {
            connection = await SmtpConnection.open(options.port, heloName);
          } catch {
            fail('conn');
            continue;
          }
        }
        const began = performance.now();
        const reply: SmtpReply = await connection.send(options.jobs[index]!);
        endedPerf = Math.max(endedPerf, performance.now());
        if (reply.code === 250) {
          latencies.push(performance.now() - began);
          acceptances.push({ index, at: Date.now(), text: reply.text });
        } else {
          fail(reply.code === CONNECTION_LOST ? 'conn' : String(reply.code));
        }
        if (!options.reuse) {
          await connection.quit();
          connection = undefined;
        }
      }
    } finally {
      await connection?.quit();
    }
  };

  await Promise.all(Array.from({ length: options.connections }, sender));
  const durationMs = endedPerf - startedPerf;
  return {
    sent: options.jobs.length,
    accepted: acceptances.length,
    failures,
    durationMs,
    msgsPerSec: durationMs > 0 ? (acceptances.length * 1000) / durationMs : 0,
    latencyMs: summarize(latencies),
    startedAt,
    endedAt: startedAt + durationMs,
    acceptances,
  };
}
