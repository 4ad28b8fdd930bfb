import { startAppProcess, type AppProcess } from './app-process';
import { freePort } from './free-port';
import { RawSmtp } from './raw-smtp';

/** Helpers of the fault tests (tools/faults): downstream stubs, raw SMTP transaction steps. */

/** The envelope sender the fault tests use unless told otherwise. */
export const FAULT_SENDER = 'alice@sender.example';

/** EHLO (unless told not to), MAIL, RCPT, DATA: the replies, up to the first that is neither 2xx nor 354. */
export async function beginData(session: RawSmtp, recipient: string, options: { ehlo?: boolean; sender?: string } = {}): Promise<string[]> {
  const steps = [...(options.ehlo === false ? [] : ['EHLO client.sender.example']), `MAIL FROM:<${options.sender ?? FAULT_SENDER}>`, `RCPT TO:<${recipient}>`, 'DATA'];
  const replies: string[] = [];
  for (const step of steps) {
    replies.push(await session.command(step));
    if (!/^(2|354)/.test(replies[replies.length - 1]!)) break;
  }
  return replies;
}

/** RFC 5321 4.5.2 transparency: a '.' at the start of a line is doubled (smtp-server unstuffs after any LF). */
export function dotStuff(raw: Buffer): Buffer {
  const text = raw.toString('latin1').replace(/(^|\n)\./g, '$1..');
  return Buffer.from(text.endsWith('\r\n') ? text : `${text}\r\n`, 'latin1');
}

/** What the server holds as the message: smtp-server keeps the CRLF the client added before the final dot. */
export const asReceived = (raw: Buffer): Buffer => (raw.toString('latin1').endsWith('\r\n') ? raw : Buffer.concat([raw, Buffer.from('\r\n')]));

/** One whole transaction; the reply that ended it (the DATA reply, or the first refusal). */
export async function sendMessage(port: number, recipient: string, raw: Buffer): Promise<string> {
  const { client: session, greeting } = await RawSmtp.open(port);
  try {
    const replies = [greeting, ...(await beginData(session, recipient))];
    const last = replies[replies.length - 1]!;
    if (!last.startsWith('354')) return last;
    session.write(dotStuff(raw));
    const reply = await session.command('.');
    await session.command('QUIT');
    return reply;
  } finally {
    session.close();
  }
}


/** Waits for `promise`, or `ms` at most (the timer is cleared either way, so no handle outlives the test). */
export async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

export const codes = (replies: string[]) => replies.map((reply) => reply.slice(0, 3));

export const replyClass = (reply: string) => (reply === '' ? 'closed' : reply.slice(0, 3));

export function tally(replies: string[]): string {
  const counts = new Map<string, number>();
  for (const reply of replies) counts.set(replyClass(reply), (counts.get(replyClass(reply)) ?? 0) + 1);
  return [...counts].map(([code, count]) => `${code}x${count}`).join(' ');
}

export async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The environment every fault-test app process shares: its own database and Redis prefix, the NXDOMAIN DNS stub. */
export function faultAppEnv(options: { databaseUrl: string; redisUrl: string; redisPrefix: string; dnsServer: string; journalDomain: string; maxMessageSize: number }): Record<string, string> {
  return {
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: options.redisPrefix,
    HOST: '127.0.0.1',
    JOURNAL_DOMAIN: options.journalDomain,
    SMTP_HOSTNAME: 'mx.fault.test',
    SMTP_MAX_MESSAGE_SIZE: String(options.maxMessageSize),
    DNS_SERVERS: options.dnsServer,
    DNS_TIMEOUT_MS: '1000',
  };
}

/** The journal ingest and the scanner (`SCANNER_ROLE=all`) as processes on the given ports, both ready. */
export async function startFaultApps(
  env: Record<string, string>,
  ports: { journalSmtp: number; journalHttp: number; gatewaySmtp: number; gatewayHttp: number },
): Promise<[AppProcess, AppProcess]> {
  return Promise.all([
    startAppProcess('journal-ingest', { ...env, JOURNAL_SMTP_PORT: String(ports.journalSmtp), JOURNAL_HTTP_PORT: String(ports.journalHttp) }, /app\.listening/),
    startAppProcess(
      'scanner',
      { ...env, SCANNER_ROLE: 'all', SCANNER_SMTP_PORT: String(ports.gatewaySmtp), SCANNER_HTTP_PORT: String(ports.gatewayHttp), JOURNAL_HTTP_PORT: String(await freePort()) },
      /app\.listening/,
    ),
  ]);
}
