import { randomBytes } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { createTransport } from 'nodemailer';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { FakeMicrosoft365 } from './fake-microsoft365.server';

/**
 * Exchange Online's mail routing for tests, beside {@link FakeMicrosoft365}: what makes the connectors and transport
 * rules that Mailwarden creates through `InvokeCommand` actually move mail on 127.0.0.1.
 *
 * - **Inbound (internet) listener**: the tenant's MX (`<domain>.mail.protection.outlook.com` in the real world).
 *   Accepts mail for the accepted domains of the fake's tenants (a mailbox that does not exist: `550 5.1.10`), writes
 *   its `Received` field, then applies the tenant's enabled transport rules in priority order.
 * - **Connector listener**: where mail comes back from Mailwarden. Exchange Online attributes a message to a partner
 *   inbound connector by the client's IP (`SenderIPAddresses`) or its TLS certificate name
 *   (`TlsSenderCertificateName`); anything else is refused with `550 5.7.51 TenantInboundAttribution`. Accepted mail
 *   goes through the transport rules again (that is how a real loop forms) and then into the mailboxes.
 * - **Transport rules** (conditions `SentToScope`, `RecipientDomainIs`, `SentTo`, `SentToMemberOf`; exceptions
 *   `ExceptIfHeaderContainsMessageHeader` + `ExceptIfHeaderContainsWords`, `ExceptIfSenderIpRanges` (the IP of the
 *   client that connected to this listener), `ExceptIfSentTo`, `ExceptIfRecipientDomainIs`; actions `RouteMessageOutboundConnector`,
 *   `RedirectMessageTo`, `DeleteMessage`, `StopRuleProcessing`), evaluated per recipient (Exchange bifurcates).
 * - **Outbound connectors** (`SmartHosts`, `Enabled`): routed mail is relayed over SMTP to the first smart host; a
 *   4xx or a refused connection is retried (Exchange queues), a 5xx is a non-delivery (recorded, no NDR sent).
 * - **Mailboxes**: delivered messages land in the inbox of FakeMicrosoft365's Graph (`internetMessageId`,
 *   `internetMessageHeaders`), so a Graph client finds them as it would in Exchange.
 *
 * Every step of every message is in {@link trace}, for assertions. Where Microsoft's documentation leaves the
 * behaviour open, the reading implemented is named in a comment.
 */

/** The parts of a transport rule the router reads (Get-TransportRule's property names). */
export interface RoutingTransportRule {
  Name: string;
  Priority: number;
  /** `Enabled` | `Disabled` (Get-TransportRule `State`). */
  State: string;
  /** `Enforce` acts; `Audit` / `AuditAndNotify` only report (default Enforce). */
  Mode?: string | null;
  SentToScope?: string | null;
  RecipientDomainIs?: string[] | null;
  SentTo?: string[] | null;
  SentToMemberOf?: string[] | null;
  ExceptIfHeaderContainsMessageHeader?: string | null;
  ExceptIfHeaderContainsWords?: string[] | null;
  ExceptIfSentTo?: string[] | null;
  ExceptIfRecipientDomainIs?: string[] | null;
  /** Addresses / CIDR ranges of the connecting client (IPv4 here); Exchange matches the IP that connected to it. */
  ExceptIfSenderIpRanges?: string[] | null;
  RouteMessageOutboundConnector?: string | null;
  RejectMessageReasonText?: string | null;
  RedirectMessageTo?: string[] | null;
  DeleteMessage?: boolean | null;
  StopRuleProcessing?: boolean | null;
}

export interface RoutingOutboundConnector {
  Name: string;
  Enabled: boolean;
  SmartHosts?: string[] | null;
}

export interface RoutingInboundConnector {
  Name: string;
  Enabled: boolean;
  SenderIPAddresses?: string[] | null;
  TlsSenderCertificateName?: string | null;
  /** Mail through this connector must come over TLS. */
  RequireTls?: boolean | null;
}

/** What the router needs of the fake Exchange Online's object store (per tenant): `FakeMicrosoft365.exchange` by default. */
export interface ExchangeRoutingObjects {
  transportRules(tenantId: string): RoutingTransportRule[];
  outboundConnectors(tenantId: string): RoutingOutboundConnector[];
  inboundConnectors(tenantId: string): RoutingInboundConnector[];
}

export type RoutingEvent =
  | 'accepted'
  | 'refused'
  | 'rule-matched'
  | 'rule-excepted'
  | 'routed'
  | 'route-deferred'
  | 'route-failed'
  | 'redirected'
  | 'deleted'
  | 'rejected'
  | 'delivered';

export interface RoutingTraceEntry {
  at: Date;
  event: RoutingEvent;
  internetMessageId: string;
  tenantId: string | null;
  recipients: string[];
  detail: string;
}

export interface FakeExchangeOnlineSmtpOptions {
  /** Host name in the Received fields (default `fake.mail.protection.outlook.com`). */
  hostname?: string;
  /** Local address the router sends from towards smart hosts (Exchange Online's outbound IPs); default 127.0.0.1. */
  sendFrom?: string;
  /** Port for a smart host (real Exchange Online always uses 25); default 25. */
  smartHostPort?: (host: string) => number;
  /** Address a smart host name connects to (no DNS in tests); default the name itself. */
  smartHostAddress?: (host: string) => string;
  /** CA (PEM) that a connector's TLS client certificate must chain to; without it no certificate name is trusted. */
  clientCa?: string;
  /** Retries of a 4xx / unreachable smart host, and the wait between them (default 40 × 250 ms). */
  routeRetries?: number;
  routeRetryMs?: number;
}

interface Envelope {
  from: string;
  to: string[];
  clientIp: string;
  helo: string;
  tlsCertNames: string[];
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Unfolded header fields of a message (name as written, value without the leading space). */
export function parseHeaderFields(raw: Buffer): Array<{ name: string; value: string }> {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const section = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]/g, ' ');
  return section
    .split(/\r?\n/)
    .map((line) => /^([^:\s]+):\s?(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ name: match[1]!, value: match[2]! }));
}

/** IPv4 `a.b.c.d` or `a.b.c.d/n` containment (Exchange accepts both forms in SenderIPAddresses). */
function ipv4InRange(ip: string, range: string): boolean {
  const toNumber = (value: string) => value.split('.').reduce((sum, part) => sum * 256 + Number(part), 0);
  const [base, bits] = range.split('/');
  const clean = ip.replace(/^::ffff:/, '');
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(clean) || !/^\d+\.\d+\.\d+\.\d+$/.test(base ?? '')) {
    return clean === range;
  }
  const prefix = bits === undefined ? 32 : Number(bits);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return ((toNumber(clean) & mask) >>> 0) === ((toNumber(base!) & mask) >>> 0);
}

function certificateNames(socket: TLSSocket): string[] {
  if (!socket.authorized) {
    return [];
  }
  const certificate = socket.getPeerCertificate();
  const names = [certificate?.subject?.CN].flat().filter((name): name is string => typeof name === 'string');
  for (const entry of (certificate?.subjectaltname ?? '').split(/,\s*/)) {
    if (entry.startsWith('DNS:')) {
      names.push(entry.slice(4));
    }
  }
  return names.map((name) => name.toLowerCase());
}

export class FakeExchangeOnlineSmtp {
  readonly trace: RoutingTraceEntry[] = [];
  /**
   * Accepted domains per tenant added here, besides the store's (`m365.exchange.addAcceptedDomain`); a tenant with
   * neither accepts the domains of its users' addresses.
   */
  private readonly acceptedDomains = new Map<string, Set<string>>();
  private readonly connectionCertNames = new Map<string, string[]>();
  private inbound?: SMTPServer;
  private connector?: SMTPServer;
  private readonly pending = new Set<Promise<void>>();
  private stopped = false;
  inboundPort = 0;
  connectorPort = 0;
  readonly hostname: string;

  private readonly objects: ExchangeRoutingObjects;

  /** `objects`: the tenant objects to route by; default the fake's own Exchange Online store (`m365.exchange`). */
  constructor(
    private readonly m365: FakeMicrosoft365,
    objects?: ExchangeRoutingObjects,
    private readonly options: FakeExchangeOnlineSmtpOptions = {},
  ) {
    this.hostname = options.hostname ?? 'fake.mail.protection.outlook.com';
    this.objects = objects ?? {
      transportRules: (tenantId) => m365.exchange.rules(tenantId),
      outboundConnectors: (tenantId) => m365.exchange.outboundConnectors(tenantId),
      inboundConnectors: (tenantId) => m365.exchange.inboundConnectors(tenantId),
    };
  }

  addAcceptedDomain(tenantId: string, domain: string): void {
    const domains = this.acceptedDomains.get(tenantId) ?? new Set<string>();
    domains.add(domain.toLowerCase());
    this.acceptedDomains.set(tenantId, domains);
  }

  /** Trace entries of one message (by its Message-ID, angle brackets included). */
  traceOf(internetMessageId: string): RoutingTraceEntry[] {
    return this.trace.filter((entry) => entry.internetMessageId === internetMessageId);
  }

  async start(): Promise<{ inboundPort: number; connectorPort: number }> {
    this.inbound = this.listener('inbound');
    this.connector = this.listener('connector');
    const listen = async (server: SMTPServer) => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.server.address() as { port: number }).port;
    };
    this.inboundPort = await listen(this.inbound);
    this.connectorPort = await listen(this.connector);
    return { inboundPort: this.inboundPort, connectorPort: this.connectorPort };
  }

  /** Waits until every message taken so far was routed, delivered or given up. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) {
      await Promise.allSettled([...this.pending]);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([this.inbound, this.connector].map((server) => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))));
    await this.settle();
  }

  /** The tenant whose accepted domains include this one. */
  tenantOfDomain(domain: string): string | null {
    for (const tenantId of this.m365.tenantIds()) {
      if (this.domainsOf(tenantId).has(domain.toLowerCase())) {
        return tenantId;
      }
    }
    return null;
  }

  private domainsOf(tenantId: string): Set<string> {
    const stored = this.m365.exchange.store(tenantId).acceptedDomains.map((domain) => domain.DomainName.toLowerCase());
    if (stored.length > 0 || this.acceptedDomains.has(tenantId)) {
      return new Set([...stored, ...(this.acceptedDomains.get(tenantId) ?? [])]);
    }
    return new Set(this.m365.usersOf(tenantId).flatMap((user) => [user.userPrincipalName, user.mail ?? ''].filter(Boolean).map(domainOf)));
  }

  private listener(kind: 'inbound' | 'connector'): SMTPServer {
    const server = new SMTPServer({
      name: this.hostname,
      authOptional: true,
      disabledCommands: ['AUTH'],
      disableReverseLookup: true,
      logger: false,
      // The connector listener asks for a client certificate; only one that chains to `clientCa` is named.
      ...(kind === 'connector' ? { requestCert: true, rejectUnauthorized: false, ...(this.options.clientCa ? { ca: this.options.clientCa } : {}) } : {}),
      onSecure: (socket, session, callback) => {
        this.connectionCertNames.set(session.id, kind === 'connector' ? certificateNames(socket as TLSSocket) : []);
        callback();
      },
      onClose: (session) => this.connectionCertNames.delete(session.id),
      onRcptTo: (address, session, callback) => {
        const refusal = this.checkRecipient(kind, address.address, session);
        callback(refusal ? Object.assign(new Error(refusal.text), { responseCode: refusal.code }) : undefined);
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const envelope: Envelope = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase()),
            clientIp: session.remoteAddress.replace(/^::ffff:/, ''),
            helo: session.hostNameAppearsAs,
            tlsCertNames: this.connectionCertNames.get(session.id) ?? [],
          };
          const raw = Buffer.concat(chunks);
          const internetMessageId = this.messageIdOf(raw);
          this.record('accepted', internetMessageId, this.tenantOfDomain(domainOf(envelope.to[0]!)), envelope.to, `${kind} from ${envelope.clientIp}`);
          // Queued, then answered: Exchange replies 250 once it has the message and routes it afterwards.
          callback(null, `2.6.0 ${internetMessageId} [Hostname=${this.hostname}] Queued mail for delivery`);
          this.track(this.route(kind, envelope, raw, internetMessageId));
        });
      },
    });
    server.on('error', () => undefined);
    return server;
  }

  private checkRecipient(kind: 'inbound' | 'connector', address: string, session: SMTPServerSession): { code: number; text: string } | null {
    const tenantId = this.tenantOfDomain(domainOf(address));
    if (!tenantId) {
      // Exchange Online: 550 5.7.64 TenantAttribution; Relay Access Denied (no tenant accepts the domain).
      return { code: 550, text: '5.7.64 TenantAttribution; Relay Access Denied' };
    }
    if (kind === 'connector') {
      const clientIp = session.remoteAddress.replace(/^::ffff:/, '');
      const certNames = this.connectionCertNames.get(session.id) ?? [];
      // The certificate name, or the IP ranges as the alternative (the fake's reading of a partner connector that
      // has both; Exchange documents RestrictDomainsToCertificate / RestrictDomainsToIPAddresses separately).
      const attributed = this.objects
        .inboundConnectors(tenantId)
        .find(
          (connector) =>
            connector.Enabled &&
            ((connector.SenderIPAddresses ?? []).some((range) => ipv4InRange(clientIp, range)) ||
              (!!connector.TlsSenderCertificateName && certNames.includes(connector.TlsSenderCertificateName.toLowerCase()))),
        );
      if (!attributed) {
        return { code: 550, text: '5.7.51 TenantInboundAttribution; no inbound connector of the tenant matches this client (IP or certificate)' };
      }
      if (attributed.RequireTls && !session.secure) {
        return { code: 451, text: `4.7.3 The inbound connector ${attributed.Name} requires TLS (STARTTLS first)` };
      }
    }
    if (!this.m365.findMailbox(tenantId, address)) {
      return { code: 550, text: `5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient ${address} not found by SMTP address lookup` };
    }
    return null;
  }

  private messageIdOf(raw: Buffer): string {
    return parseHeaderFields(raw).find((field) => field.name.toLowerCase() === 'message-id')?.value.trim() ?? '';
  }

  private record(event: RoutingEvent, internetMessageId: string, tenantId: string | null, recipients: string[], detail: string): void {
    this.trace.push({ at: new Date(), event, internetMessageId, tenantId, recipients, detail });
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private async route(kind: 'inbound' | 'connector', envelope: Envelope, received: Buffer, internetMessageId: string): Promise<void> {
    const tenantId = this.tenantOfDomain(domainOf(envelope.to[0]!))!;
    const stamp = `Received: from ${envelope.helo} (${envelope.clientIp}) by ${this.hostname} (10.167.16.${kind === 'inbound' ? 1 : 2}) with Microsoft SMTP Server (version=TLS1_2) id 15.20.8000.${kind === 'inbound' ? 1 : 2}; ${new Date().toUTCString()}\r\n`;
    const raw = Buffer.concat([Buffer.from(stamp), received]);
    const fields = parseHeaderFields(raw);
    // Per recipient: the outcome of the rules (Exchange bifurcates a message whose recipients match differently).
    const outcomes = new Map<string, { connector: string | null; deleted: boolean; rejected: string | null; recipients: string[] }>();
    for (const recipient of envelope.to) {
      const outcome = this.applyRules(tenantId, recipient, fields, envelope.clientIp, internetMessageId);
      for (const target of outcome.recipients) {
        const key = `${outcome.connector ?? ''}|${outcome.deleted}|${outcome.rejected ?? ''}`;
        const group = outcomes.get(key) ?? { connector: outcome.connector, deleted: outcome.deleted, rejected: outcome.rejected, recipients: [] };
        group.recipients.push(target);
        outcomes.set(key, group);
      }
    }
    for (const group of outcomes.values()) {
      if (group.deleted) {
        this.record('deleted', internetMessageId, tenantId, group.recipients, 'DeleteMessage');
      } else if (group.rejected !== null) {
        // Exchange sends the sender an NDR with the rule's text (5.7.1); the fake records it, sends none.
        this.record('rejected', internetMessageId, tenantId, group.recipients, `550 5.7.1 ${group.rejected}`);
      } else if (group.connector) {
        await this.relay(tenantId, group.connector, envelope.from, group.recipients, raw, internetMessageId);
      } else {
        this.deliver(tenantId, group.recipients, raw, internetMessageId, kind);
      }
    }
  }

  /** The transport rules for one recipient, in priority order (lowest number first; disabled rules skipped). */
  private applyRules(tenantId: string, recipient: string, fields: Array<{ name: string; value: string }>, clientIp: string, internetMessageId: string) {
    const rules = this.objects
      .transportRules(tenantId)
      .filter((rule) => rule.State === 'Enabled' && (rule.Mode ?? 'Enforce') === 'Enforce')
      .sort((a, b) => a.Priority - b.Priority);
    let connector: string | null = null;
    let recipients = [recipient];
    const none = { connector: null, deleted: false, rejected: null };
    for (const rule of rules) {
      if (!this.ruleMatches(tenantId, rule, recipient)) {
        continue;
      }
      if (this.ruleExcepted(rule, fields, recipient, clientIp)) {
        this.record('rule-excepted', internetMessageId, tenantId, [recipient], rule.Name);
        continue;
      }
      this.record('rule-matched', internetMessageId, tenantId, [recipient], rule.Name);
      if (rule.DeleteMessage) {
        return { ...none, deleted: true, recipients };
      }
      if (rule.RejectMessageReasonText) {
        return { ...none, rejected: rule.RejectMessageReasonText, recipients };
      }
      if (rule.RedirectMessageTo && rule.RedirectMessageTo.length > 0) {
        recipients = rule.RedirectMessageTo.map((address) => address.toLowerCase());
        this.record('redirected', internetMessageId, tenantId, recipients, `${rule.Name}: from ${recipient}`);
      }
      if (rule.RouteMessageOutboundConnector) {
        connector = rule.RouteMessageOutboundConnector;
      }
      if (rule.StopRuleProcessing) {
        break;
      }
    }
    return { ...none, connector, recipients };
  }

  private ruleMatches(tenantId: string, rule: RoutingTransportRule, recipient: string): boolean {
    const domain = domainOf(recipient);
    // `InOrganization`: the recipient is in an accepted domain of the tenant (a mailbox, contact or group).
    if (rule.SentToScope === 'InOrganization' && !this.domainsOf(tenantId).has(domain)) {
      return false;
    }
    if (rule.SentToScope === 'NotInOrganization' && this.domainsOf(tenantId).has(domain)) {
      return false;
    }
    if (rule.RecipientDomainIs?.length && !rule.RecipientDomainIs.some((wanted) => domain === wanted.toLowerCase() || domain.endsWith(`.${wanted.toLowerCase()}`))) {
      return false;
    }
    if (rule.SentTo?.length && !rule.SentTo.some((wanted) => wanted.toLowerCase() === recipient)) {
      return false;
    }
    if (rule.SentToMemberOf?.length) {
      const mailbox = this.m365.findMailbox(tenantId, recipient);
      if (!mailbox || !rule.SentToMemberOf.some((group) => this.m365.isMember(tenantId, group, mailbox.id))) {
        return false;
      }
    }
    return true;
  }

  /**
   * `ExceptIfHeaderContainsMessageHeader` + `ExceptIfHeaderContainsWords`: the header is present and one of the words
   * occurs in its value (case-insensitive). Exchange requires the words; the fake treats an empty list as "present".
   * `ExceptIfSenderIpRanges`: the client that connected to Exchange for this message (the SMTP session's peer, not
   * anything in the message) is in one of the ranges. Exceptions are ORed, as in Exchange.
   */
  private ruleExcepted(rule: RoutingTransportRule, fields: Array<{ name: string; value: string }>, recipient: string, clientIp: string): boolean {
    if (rule.ExceptIfSenderIpRanges?.some((range) => ipv4InRange(clientIp, range))) {
      return true;
    }
    if (rule.ExceptIfSentTo?.some((address) => address.toLowerCase() === recipient)) {
      return true;
    }
    if (rule.ExceptIfRecipientDomainIs?.some((domain) => domainOf(recipient) === domain.toLowerCase() || domainOf(recipient).endsWith(`.${domain.toLowerCase()}`))) {
      return true;
    }
    const header = rule.ExceptIfHeaderContainsMessageHeader?.toLowerCase();
    if (!header) {
      return false;
    }
    const values = fields.filter((field) => field.name.toLowerCase() === header).map((field) => field.value.toLowerCase());
    const words = (rule.ExceptIfHeaderContainsWords ?? []).map((word) => word.toLowerCase());
    return values.some((value) => words.length === 0 || words.some((word) => value.includes(word)));
  }

  private async relay(tenantId: string, connectorName: string, from: string, recipients: string[], raw: Buffer, internetMessageId: string): Promise<void> {
    const connector = this.objects.outboundConnectors(tenantId).find((candidate) => candidate.Name.toLowerCase() === connectorName.toLowerCase());
    if (!connector || !connector.Enabled || !connector.SmartHosts?.length) {
      // A rule naming a missing or disabled connector: Exchange fails the message (NDR 5.4.4 / 550 4.4.7 eventually).
      this.record('route-failed', internetMessageId, tenantId, recipients, `outbound connector ${connectorName} ${connector ? (connector.Enabled ? 'has no smart host' : 'is disabled') : 'does not exist'}`);
      return;
    }
    const smartHost = connector.SmartHosts[0]!;
    const host = this.options.smartHostAddress?.(smartHost) ?? smartHost;
    const port = this.options.smartHostPort?.(smartHost) ?? 25;
    const retries = this.options.routeRetries ?? 40;
    for (let attempt = 0; attempt <= retries && !this.stopped; attempt++) {
      const transport = createTransport({
        host,
        port,
        secure: false,
        name: this.hostname,
        localAddress: this.options.sendFrom ?? '127.0.0.1',
        // Exchange verifies the smart host's certificate (TlsSettings DomainValidation); test scanners use self-signed ones.
        tls: { rejectUnauthorized: false },
        connectionTimeout: 5_000,
      });
      try {
        const info = await transport.sendMail({ envelope: { from, to: recipients }, raw });
        this.record('routed', internetMessageId, tenantId, recipients, `${connector.Name} -> ${smartHost}: ${info.response}`);
        return;
      } catch (error) {
        const { responseCode, response } = error as { responseCode?: number; response?: string };
        if (responseCode !== undefined && responseCode >= 500) {
          this.record('route-failed', internetMessageId, tenantId, recipients, `${connector.Name} -> ${smartHost}: ${response ?? (error as Error).message}`);
          return;
        }
        this.record('route-deferred', internetMessageId, tenantId, recipients, `${connector.Name} -> ${smartHost}: ${response ?? (error as Error).message}`);
        await sleep(this.options.routeRetryMs ?? 250);
      } finally {
        transport.close();
      }
    }
    this.record('route-failed', internetMessageId, tenantId, recipients, `${connector.Name} -> ${smartHost}: gave up after ${retries} retries`);
  }

  private deliver(tenantId: string, recipients: string[], raw: Buffer, internetMessageId: string, kind: 'inbound' | 'connector'): void {
    const fields = parseHeaderFields(raw);
    const subject = fields.find((field) => field.name.toLowerCase() === 'subject')?.value ?? '';
    for (const recipient of recipients) {
      const mailbox = this.m365.findMailbox(tenantId, recipient);
      if (!mailbox) {
        this.record('route-failed', internetMessageId, tenantId, [recipient], 'RecipientNotFound');
        continue;
      }
      this.m365.deliver(tenantId, mailbox.id, internetMessageId, subject, { headers: fields, raw });
      this.record('delivered', internetMessageId, tenantId, [recipient], `${mailbox.userPrincipalName} (${kind === 'connector' ? 'back through the inbound connector' : 'straight from the internet'})`);
    }
  }

  /** A unique id for tests that need one. */
  static messageId(domain = 'sender.example'): string {
    return `<${randomBytes(9).toString('hex')}@${domain}>`;
  }
}
