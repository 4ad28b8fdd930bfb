import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import nodemailer from 'nodemailer';
import { MailflowHealthRepository, type MailflowQuickTest, type Prisma } from '@mailwarden/db';
import { odataString } from './graph.client';
import { MailflowHealthQueues } from './mailflow-health.workers';
import { MICROSOFT365_OPTIONS, type Microsoft365ModuleOptions } from './microsoft365.options';
import { Microsoft365Service } from './microsoft365.service';

/**
 * The hops of Microsoft 365's mailflow path that the quick test can see, in path order: Exchange Online took the
 * message (250 to DATA), Mailwarden scanned it after the transport rule routed it through the outbound connector
 * (a message row with the test's Message-ID that came through the connector), Mailwarden relayed it back to
 * Exchange Online's inbound connector (DELIVERED), and it is in the mailbox (Graph, with Mailwarden's mark).
 */
export const QUICK_TEST_HOPS = ['accepted-by-exchange', 'scanned-by-mailwarden', 'relayed-to-exchange', 'arrived-in-mailbox'] as const;
export type QuickTestHopName = (typeof QUICK_TEST_HOPS)[number];

export interface QuickTestHop {
  hop: QuickTestHopName;
  status: 'passed' | 'failed' | 'not-reached';
  /** When the hop was seen (ISO), null when it was not. */
  at: string | null;
  /** From sending to seeing the hop. */
  elapsedMs: number | null;
  detail: string;
}

export interface MailflowQuickTestOptions {
  /** Our host name: HELO name and the test sender's domain (SMTP_HOSTNAME). */
  hostname: string;
  /** How long the test waits for the last hop (default 120 s: Exchange Online can take a minute or two). */
  timeoutMs?: number;
  pollMs?: number;
  /**
   * Local address the test message leaves from. It must be outside MAILFLOW_SCANNER_IP_RANGES: Mailwarden's transport
   * rule lets mail from those addresses through unrouted (the loop exception), so a test sent from them proves nothing.
   */
  localAddress?: string;
}

/** The real Exchange Online endpoint of a domain: `contoso.com` → `contoso-com.mail.protection.outlook.com`. */
export const exchangeOnlineMxHost = (domain: string): string => `${domain.toLowerCase().replace(/-/g, '--').replace(/\./g, '-')}.mail.protection.outlook.com`;

/** Graph's view of a message in the mailbox (internetMessageHeaders only when selected). */
interface MailboxMessage {
  id: string;
  parentFolderId: string;
  receivedDateTime?: string;
  internetMessageHeaders?: Array<{ name: string; value: string }>;
}

const PROCESSED_HEADER = 'x-mailwarden-processed';

/**
 * The quick test of a Microsoft 365 mailflow domain (issue 16): a test message goes in at Exchange Online (the
 * tenant's inbound SMTP endpoint: per account in `m365_mailflow_settings`, else the domain's
 * `*.mail.protection.outlook.com` host), and the test watches each hop it can see until the mailbox has it. A
 * failure names the first hop that did not happen. Each test is a row (`mailflow_quick_test`) with its hops, so the
 * migration step, the admin API and the audit log read the same record.
 */
@Injectable()
export class MailflowQuickTestService {
  private readonly logger = new Logger(MailflowQuickTestService.name);

  constructor(
    private readonly microsoft365: Microsoft365Service,
    private readonly repository: MailflowHealthRepository,
    @Inject(MICROSOFT365_OPTIONS) private readonly options: Microsoft365ModuleOptions,
  ) {}

  private get settings(): MailflowQuickTestOptions {
    return this.options.mailflowQuickTest ?? { hostname: 'mailwarden.local' };
  }

  /**
   * Records a RUNNING test of the domain (pass the caller's transaction to commit it with the caller's change) and
   * returns it; `run` sends and watches it. The recipient defaults to a synced mailbox of the domain.
   */
  async create(input: { accountId: string; domainId: string; domain: string; recipient?: string; requestedBy: string }, db?: Prisma.TransactionClient): Promise<MailflowQuickTest> {
    const recipient = (input.recipient ?? (await this.repository.firstMailbox(input.accountId, input.domain)) ?? `postmaster@${input.domain}`).toLowerCase();
    const settings = await this.repository.findSettings(input.accountId);
    const host = settings?.exchangeSmtpHost ?? exchangeOnlineMxHost(input.domain);
    const port = settings?.exchangeSmtpPort ?? 25;
    return this.repository.createQuickTest(
      {
        accountId: input.accountId,
        domainId: input.domainId,
        recipient,
        internetMessageId: `<mailflow-quick-test-${randomUUID()}@${this.settings.hostname}>`,
        exchangeSmtp: `${host}:${port}`,
        requestedBy: input.requestedBy,
        hops: QUICK_TEST_HOPS.map((hop) => ({ hop, status: 'not-reached', at: null, elapsedMs: null, detail: 'not checked yet' })),
      },
      db,
    );
  }

  /** Sends the test message and follows it; a test already finished is returned as it is (a redelivered job). */
  async run(testId: string, signal?: AbortSignal): Promise<MailflowQuickTest> {
    const test = await this.repository.findQuickTest(testId);
    if (!test) {
      throw new Error(`quick test ${testId} not found`);
    }
    if (test.status !== 'RUNNING') {
      return test;
    }
    const hops = new Map<QuickTestHopName, QuickTestHop>(QUICK_TEST_HOPS.map((hop) => [hop, { hop, status: 'not-reached', at: null, elapsedMs: null, detail: 'not seen' }]));
    try {
      return await this.follow(test, hops, signal);
    } catch (error) {
      if (signal?.aborted) {
        throw error; // the worker stops: the job is handed to the next one, the test stays RUNNING
      }
      // No test stays RUNNING for an error (the connection removed, Graph or the database failing): it fails at the
      // first hop not yet seen, with the error.
      const open = QUICK_TEST_HOPS.find((hop) => hops.get(hop)!.status !== 'passed') ?? 'arrived-in-mailbox';
      hops.set(open, { hop: open, status: 'failed', at: null, elapsedMs: null, detail: `the test could not go on: ${(error as Error).message}` });
      return this.finish(test, hops);
    }
  }

  private async follow(test: MailflowQuickTest, hops: Map<QuickTestHopName, QuickTestHop>, signal?: AbortSignal): Promise<MailflowQuickTest> {
    const connection = await this.microsoft365.requireConnection(test.accountId);
    const started = Date.now();
    const pass = (hop: QuickTestHopName, detail: string) => hops.set(hop, { hop, status: 'passed', at: new Date().toISOString(), elapsedMs: Date.now() - started, detail });
    const fail = (hop: QuickTestHopName, detail: string) => hops.set(hop, { hop, status: 'failed', at: null, elapsedMs: Date.now() - started, detail });

    const [host, port] = [test.exchangeSmtp.slice(0, test.exchangeSmtp.lastIndexOf(':')), Number(test.exchangeSmtp.slice(test.exchangeSmtp.lastIndexOf(':') + 1))];
    const sender = `quick-test@${this.settings.hostname}`;
    const transport = nodemailer.createTransport({ host, port, secure: false, name: this.settings.hostname, tls: { rejectUnauthorized: false }, connectionTimeout: 15_000, ...(this.settings.localAddress ? { localAddress: this.settings.localAddress } : {}) });
    try {
      const raw = [
        `From: Mailwarden quick test <${sender}>`,
        `To: <${test.recipient}>`,
        'Subject: Mailwarden mailflow quick test',
        `Message-ID: ${test.internetMessageId}`,
        `Date: ${new Date().toUTCString()}`,
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=us-ascii',
        '',
        'This message tests the path Exchange Online -> Mailwarden -> Exchange Online -> mailbox. It can be deleted.',
        '',
      ].join('\r\n');
      const info = await transport.sendMail({ envelope: { from: sender, to: [test.recipient] }, raw });
      pass('accepted-by-exchange', `${host}:${port} answered ${info.response}`);
    } catch (error) {
      const { response } = error as { response?: string };
      fail('accepted-by-exchange', `${host}:${port} refused the test message: ${response ?? (error as Error).message}`);
      return this.finish(test, hops);
    } finally {
      transport.close();
    }

    const graph = this.microsoft365.graph(connection.tenantId, signal);
    const filter = encodeURIComponent(`internetMessageId eq ${odataString(test.internetMessageId)}`);
    const mailboxPath = `/users/${encodeURIComponent(test.recipient)}/messages?$filter=${filter}&$select=id,parentFolderId,receivedDateTime,internetMessageHeaders`;
    const deadline = started + (this.settings.timeoutMs ?? 120_000);
    let arrivedUnmarked: MailboxMessage | null = null;
    while (!signal?.aborted) {
      const sighting = await this.repository.findMessage(test.accountId, test.internetMessageId);
      if (sighting && hops.get('scanned-by-mailwarden')!.status !== 'passed') {
        if (sighting.source === 'MAILFLOW') {
          pass('scanned-by-mailwarden', `message ${sighting.id} through the Microsoft 365 connector, scan ${sighting.scanStatus}`);
        } else {
          fail('scanned-by-mailwarden', `message ${sighting.id} reached Mailwarden through the ${sighting.source} path, not the Microsoft 365 connector`);
          break;
        }
      }
      if (sighting && hops.get('scanned-by-mailwarden')!.status === 'passed' && hops.get('relayed-to-exchange')!.status !== 'passed') {
        if (sighting.deliveryState === 'DELIVERED') {
          pass('relayed-to-exchange', `Exchange Online's inbound connector took message ${sighting.id}`);
        } else if (sighting.deliveryState === 'FAILED' || sighting.deliveryState === 'REJECTED' || sighting.deliveryState === 'QUARANTINED') {
          fail('relayed-to-exchange', `Mailwarden did not relay it: ${sighting.deliveryState}${sighting.lastError ? ` (${sighting.lastError})` : ''}`);
          break;
        }
      }
      try {
        const found = (await graph.get<{ value: MailboxMessage[] }>(mailboxPath, { mailbox: test.recipient })).value;
        const marked = found.find((message) => (message.internetMessageHeaders ?? []).some((header) => header.name.toLowerCase() === PROCESSED_HEADER));
        if (marked) {
          if (hops.get('relayed-to-exchange')!.status !== 'passed') {
            // Exchange can hand the message to the mailbox before the scanner records the 250 it got back.
            const again = await this.repository.findMessage(test.accountId, test.internetMessageId);
            pass('relayed-to-exchange', `Exchange Online's inbound connector took message ${again?.id ?? '?'} (delivery state ${again?.deliveryState ?? 'unknown'}; it reached the mailbox with Mailwarden's mark)`);
          }
          pass('arrived-in-mailbox', `in ${test.recipient} (Graph id ${marked.id}), carrying Mailwarden's mark`);
          break;
        }
        arrivedUnmarked = found[0] ?? arrivedUnmarked;
      } catch (error) {
        hops.set('arrived-in-mailbox', { hop: 'arrived-in-mailbox', status: 'not-reached', at: null, elapsedMs: null, detail: `Graph: ${(error as Error).message}` });
      }
      if (arrivedUnmarked && hops.get('scanned-by-mailwarden')!.status !== 'passed') {
        // Delivered without passing Mailwarden: the transport rule did not route it (missing, disabled, excepted).
        fail('scanned-by-mailwarden', `the message reached ${test.recipient} without passing Mailwarden: the transport rule did not route it through the outbound connector`);
        break;
      }
      if (Date.now() >= deadline) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, this.settings.pollMs ?? 1_000));
    }
    for (const hop of QUICK_TEST_HOPS) {
      const seen = hops.get(hop)!;
      if (seen.status === 'not-reached' && seen.detail === 'not seen' && hops.get('accepted-by-exchange')!.status === 'passed') {
        const previous = QUICK_TEST_HOPS.slice(0, QUICK_TEST_HOPS.indexOf(hop)).every((before) => hops.get(before)!.status === 'passed');
        if (previous) {
          fail(hop, `not seen within ${Math.round((Date.now() - started) / 1000)} s`);
        }
      }
    }
    return this.finish(test, hops);
  }

  /** Records the hops; the test passed when every hop did, and names the first that did not. */
  private async finish(test: MailflowQuickTest, hops: Map<QuickTestHopName, QuickTestHop>): Promise<MailflowQuickTest> {
    const ordered = QUICK_TEST_HOPS.map((hop) => hops.get(hop)!);
    const failed = ordered.find((hop) => hop.status !== 'passed');
    const finished = await this.repository.updateQuickTest(test.id, {
      status: failed ? 'FAILED' : 'PASSED',
      failedHop: failed?.hop ?? null,
      hops: ordered as unknown as Prisma.InputJsonValue,
      finishedAt: new Date(),
    });
    this.logger.log({ event: 'microsoft365.mailflow_quick_test.finished', testId: test.id, accountId: test.accountId, status: finished.status, failedHop: finished.failedHop });
    return finished;
  }
}

/** One line naming the failed hop, for step results and API answers. */
export function describeQuickTest(test: Pick<MailflowQuickTest, 'status' | 'failedHop' | 'hops' | 'recipient' | 'exchangeSmtp'>): string {
  const hops = test.hops as unknown as QuickTestHop[];
  if (test.status === 'RUNNING') {
    return `quick test to ${test.recipient} through ${test.exchangeSmtp} is running`;
  }
  if (test.status === 'PASSED') {
    return `quick test passed every hop: ${hops.map((hop) => `${hop.hop} after ${hop.elapsedMs} ms`).join(', ')}`;
  }
  const failed = hops.find((hop) => hop.hop === test.failedHop);
  return `quick test failed at hop ${test.failedHop}: ${failed?.detail ?? 'unknown'}`;
}

/**
 * What a mode-migration step needs of the quick test (libs/mode-migrations finds it through Nest's ModuleRef, so
 * an app without Microsoft 365 keeps the manual check): whether the account can be tested through Exchange Online,
 * the newest test since the step started, and starting one, recorded in the step's transaction and run by the
 * scanner's mailflow worker.
 */
@Injectable()
export class MailflowQuickTestLauncher {
  constructor(
    private readonly quickTests: MailflowQuickTestService,
    private readonly repository: MailflowHealthRepository,
    private readonly queues: MailflowHealthQueues,
    private readonly microsoft365: Microsoft365Service,
  ) {}

  /** An app is configured and the account has a Microsoft 365 connection. */
  async available(accountId: string, db: Prisma.TransactionClient): Promise<boolean> {
    return this.microsoft365.isConfigured && (await db.m365Connection.count({ where: { accountId } })) > 0;
  }

  latest(accountId: string, domainIds: string[], since: Date, db: Prisma.TransactionClient): Promise<MailflowQuickTest | null> {
    return this.repository.latestQuickTest(accountId, domainIds, since, db);
  }

  async start(input: { accountId: string; domainId: string; domain: string; requestedBy: string }, db: Prisma.TransactionClient): Promise<MailflowQuickTest> {
    const test = await this.quickTests.create(input, db);
    await this.queues.enqueueQuickTest(test.id);
    return test;
  }
}
