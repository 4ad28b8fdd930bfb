import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, isIPv4, type AddressInfo, type Socket } from 'node:net';

/**
 * A small, stateful Exchange Online for tests: the `InvokeCommand` REST endpoint the Exchange Online V3 module uses
 * (../shared/m365/WIRE.md §3), one object store per tenant of the surrounding FakeMicrosoft365, on its own port (its
 * own origin, so its token scope `<baseUrl>/.default` differs from Graph's, as outlook.office365.com differs from
 * graph.microsoft.com).
 *
 * ── Wire ───────────────────────────────────────────────────────────────────────────────────────────────────────────
 *   POST {baseUrl}/adminapi/beta/{tenantId}/InvokeCommand
 *     headers: Authorization: Bearer <token with scope {baseUrl}/.default>, X-CmdletName (optional, must match when
 *              sent), Prefer: odata.maxpagesize=N (optional), X-AnchorMailbox and client-request-id (accepted, unused)
 *     body:    {"CmdletInput":{"CmdletName":"New-InboundConnector","Parameters":{...}}}
 *   200 {"@odata.context", "value":[...objects...], "@odata.nextLink"?, "@adminapi.warnings"?: string[]}
 *     Set-/Remove-/Enable-/Disable-: 200 {"value":[]}. Paging: nextLink = the same URL + `$skiptoken=<n>`; the client
 *     POSTs the same body to it (the fake's reading; the V3 module does the same).
 *   Errors: {"error":{"code","message","details":[{"code":"Context","target":"","message":"<Type>|<Code>|<Message>"}]}}
 *     The fake writes `Type|Code|Message` as WIRE.md states (Type = the .NET exception, Code = e.g. `Ex6F9304`); the
 *     real client tolerates the two first fields in either order. Statuses (the fake's reading; Microsoft documents
 *     none): 404 object not found, 400 other cmdlet errors (validation, duplicate name, unknown parameter, unknown
 *     cmdlet), 401 missing / wrong-audience / expired token or a token without `Exchange.ManageAsApp` (with
 *     `WWW-Authenticate: Bearer`), 403 a token of another tenant, 429 throttled with `Retry-After` (seconds).
 *     A service principal without the Exchange Administrator role (`setAdminRole(tenant, false)`) sees no cmdlets:
 *     400 `System.Management.Automation.CommandNotFoundException`, as RBAC hides cmdlets in Exchange.
 *
 * ── Store (per tenant; all objects are plain, mutable; Identity = Name) ──────────────────────────────────────────
 *   ExoInboundConnector  { Identity, Name, Guid, ConnectorType 'Partner'|'OnPremises', Enabled, SenderDomains[],
 *                          SenderIPAddresses[], RestrictDomainsToIPAddresses, RequireTls, TlsSenderCertificateName|null,
 *                          RestrictDomainsToCertificate, TreatMessagesAsInternal, EFSkipIPs[], EFSkipLastIP, Comment|null,
 *                          WhenCreated, WhenChanged }
 *   ExoOutboundConnector { Identity, Name, Guid, ConnectorType, Enabled, SmartHosts[], UseMXRecord, RecipientDomains[],
 *                          TlsSettings 'EncryptionOnly'|'CertificateValidation'|'DomainValidation'|null, TlsDomain|null,
 *                          IsTransportRuleScoped, RouteAllMessagesViaOnPremises, Comment|null, WhenCreated, WhenChanged }
 *   ExoTransportRule     { Identity, Name, Guid, Priority (0 = first; always 0..n-1), State 'Enabled'|'Disabled',
 *                          Mode 'Enforce'|'Audit'|'AuditAndNotify', StopRuleProcessing,
 *                          conditions: SentTo[], SentToMemberOf[], RecipientDomainIs[], SentToScope|null, FromScope|null,
 *                                      From[], SenderDomainIs[],
 *                          exceptions: ExceptIfHeaderContainsMessageHeader|null, ExceptIfHeaderContainsWords[],
 *                                      ExceptIfSentTo[], ExceptIfRecipientDomainIs[], ExceptIfSenderIpRanges[],
 *                          actions:    RouteMessageOutboundConnector|null (connector name), RedirectMessageTo[],
 *                                      DeleteMessage, Quarantine, RejectMessageReasonText|null, BlindCopyTo[],
 *                                      ModerateMessageByUser[], SetHeaderName|null, SetHeaderValue|null,
 *                          Comments|null, WhenChanged }
 *   ExoArcConfig         { Identity 'Default', ArcTrustedSealers[] }
 *   ExoAcceptedDomain    { Identity, Name, DomainName, DomainType 'Authoritative'|'InternalRelay'|'ExternalRelay', Default }
 *                        (Get-AcceptedDomain only; tests add them with `fake.exchange.addAcceptedDomain(t, name)`)
 *   A condition list that is empty does not restrict; a rule without any condition applies to every message.
 *
 * ── Test API (also for the fake's SMTP routing) ────────────────────────────────────────────────────────────────────
 *   fake.exchange.inboundConnectors(t) / outboundConnectors(t) / rules(t) (sorted by Priority) / arcConfig(t):
 *     the live objects; mutate them directly to simulate an admin in the portal (e.g. `.Enabled = false`), or run a
 *     cmdlet as the admin with `fake.exchange.run(t, 'Disable-TransportRule', { Identity })` (same validation as REST).
 *   fake.exchange.invocations: every InvokeCommand received (tenant, cmdlet, parameters, status).
 *   fake.exchange.inject({ cmdlet?, status, type?, code?, message?, retryAfterSeconds?, times?, afterApply? }): fail the
 *     next calls (afterApply: the cmdlet takes effect, then the fault is answered, as when the answer is lost).
 *   fake.exchange.warnings[cmdlet] = [...]: extra `@adminapi.warnings` for a cmdlet.
 *   fake.exchange.pageSize: page size when the client sends no `Prefer: odata.maxpagesize`.
 */

export interface ExoInboundConnector {
  Identity: string;
  Name: string;
  Guid: string;
  ConnectorType: 'Partner' | 'OnPremises';
  Enabled: boolean;
  SenderDomains: string[];
  SenderIPAddresses: string[];
  RestrictDomainsToIPAddresses: boolean;
  RequireTls: boolean;
  TlsSenderCertificateName: string | null;
  RestrictDomainsToCertificate: boolean;
  TreatMessagesAsInternal: boolean;
  EFSkipIPs: string[];
  EFSkipLastIP: boolean;
  Comment: string | null;
  WhenCreated: string;
  WhenChanged: string;
}

export interface ExoOutboundConnector {
  Identity: string;
  Name: string;
  Guid: string;
  ConnectorType: 'Partner' | 'OnPremises';
  Enabled: boolean;
  SmartHosts: string[];
  UseMXRecord: boolean;
  RecipientDomains: string[];
  TlsSettings: 'EncryptionOnly' | 'CertificateValidation' | 'DomainValidation' | null;
  TlsDomain: string | null;
  IsTransportRuleScoped: boolean;
  RouteAllMessagesViaOnPremises: boolean;
  Comment: string | null;
  WhenCreated: string;
  WhenChanged: string;
}

export interface ExoTransportRule {
  Identity: string;
  Name: string;
  Guid: string;
  Priority: number;
  State: 'Enabled' | 'Disabled';
  Mode: 'Enforce' | 'Audit' | 'AuditAndNotify';
  StopRuleProcessing: boolean;
  SentTo: string[];
  SentToMemberOf: string[];
  RecipientDomainIs: string[];
  SentToScope: 'InOrganization' | 'NotInOrganization' | 'ExternalPartner' | 'ExternalNonPartner' | null;
  FromScope: 'InOrganization' | 'NotInOrganization' | null;
  From: string[];
  SenderDomainIs: string[];
  ExceptIfHeaderContainsMessageHeader: string | null;
  ExceptIfHeaderContainsWords: string[];
  ExceptIfSentTo: string[];
  ExceptIfRecipientDomainIs: string[];
  /** IPv4/IPv6 addresses or CIDR ranges of the client that connected to Exchange Online (not forgeable by content). */
  ExceptIfSenderIpRanges: string[];
  RouteMessageOutboundConnector: string | null;
  RedirectMessageTo: string[];
  DeleteMessage: boolean;
  Quarantine: boolean;
  RejectMessageReasonText: string | null;
  BlindCopyTo: string[];
  ModerateMessageByUser: string[];
  SetHeaderName: string | null;
  SetHeaderValue: string | null;
  Comments: string | null;
  WhenChanged: string;
}

export interface ExoArcConfig {
  Identity: string;
  ArcTrustedSealers: string[];
}

export interface ExoAcceptedDomain {
  Identity: string;
  Name: string;
  DomainName: string;
  DomainType: 'Authoritative' | 'InternalRelay' | 'ExternalRelay';
  Default: boolean;
}

export interface ExoTenantStore {
  acceptedDomains: ExoAcceptedDomain[];
  inboundConnectors: ExoInboundConnector[];
  outboundConnectors: ExoOutboundConnector[];
  /** Kept sorted by Priority, priorities 0..n-1. */
  transportRules: ExoTransportRule[];
  arcConfig: ExoArcConfig;
  /** The app's service principal holds the Exchange Administrator role (cmdlets visible). */
  adminRole: boolean;
}

export interface ExoInvocation {
  tenant: string;
  cmdlet: string;
  parameters: Record<string, unknown>;
  status: number;
  skipToken: string | null;
}

export interface ExoFault {
  cmdlet?: string;
  status: number;
  type?: string;
  code?: string;
  message?: string;
  retryAfterSeconds?: number;
  times?: number;
  /** Run the cmdlet first, then answer the fault: Exchange did it, the caller never learns (a lost answer). */
  afterApply?: boolean;
}

/** What the fake Exchange needs from the surrounding FakeMicrosoft365 (tenants and the tokens it issued). */
export interface ExchangeTokenAuthority {
  hasTenant(tenantId: string): boolean;
  /** The tenant and audience of an issued, unexpired token; 'expired' for an expired one; null if unknown. */
  describeToken(bearer: string): { tenant: string; audience: 'graph' | 'exchange' } | 'expired' | null;
  hasPermission(tenantId: string, permission: string): boolean;
}

/** A cmdlet failure: HTTP status and the `Type|Code|Message` detail. */
export class ExoCmdletFault extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ExoCmdletFault';
  }
}

const NOT_FOUND = 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException';
const ALREADY_EXISTS = 'Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException';
const INVALID = 'Microsoft.Exchange.Data.DataValidationException';
const BAD_PARAMETER = 'System.Management.Automation.ParameterBindingException';
const NO_COMMAND = 'System.Management.Automation.CommandNotFoundException';
const IN_USE = 'Microsoft.Exchange.Configuration.Tasks.TaskInvalidOperationException';

const notFound = (kind: string, identity: string) =>
  new ExoCmdletFault(404, NOT_FOUND, 'Ex6F9304', `The operation couldn't be performed because object '${identity}' couldn't be found on '${kind}'.`);
const invalid = (message: string) => new ExoCmdletFault(400, INVALID, 'ExB10C4F', message);

/** An address, `address/bits` or `first-last` (the forms Exchange takes in SenderIPAddresses / SenderIpRanges). */
function validIpRange(value: string): boolean {
  const span = value.split('-');
  if (span.length === 2) {
    return isIPv4(span[0]!) && isIPv4(span[1]!);
  }
  const [address, bits, ...rest] = value.split('/');
  const version = isIP(address ?? '');
  if (rest.length > 0 || version === 0) {
    return false;
  }
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128));
}

type Kind = 'InboundConnector' | 'OutboundConnector' | 'TransportRule';
type ParameterType = 'string' | 'string?' | 'bool' | 'strings' | 'int' | 'enum';
type Schema = Record<string, ParameterType | readonly string[]>;

const INBOUND_SCHEMA: Schema = {
  Name: 'string',
  ConnectorType: ['Partner', 'OnPremises'],
  Enabled: 'bool',
  SenderDomains: 'strings',
  SenderIPAddresses: 'strings',
  RestrictDomainsToIPAddresses: 'bool',
  RequireTls: 'bool',
  TlsSenderCertificateName: 'string?',
  RestrictDomainsToCertificate: 'bool',
  TreatMessagesAsInternal: 'bool',
  EFSkipIPs: 'strings',
  EFSkipLastIP: 'bool',
  Comment: 'string?',
};
const OUTBOUND_SCHEMA: Schema = {
  Name: 'string',
  ConnectorType: ['Partner', 'OnPremises'],
  Enabled: 'bool',
  SmartHosts: 'strings',
  UseMXRecord: 'bool',
  RecipientDomains: 'strings',
  TlsSettings: ['EncryptionOnly', 'CertificateValidation', 'DomainValidation'],
  TlsDomain: 'string?',
  IsTransportRuleScoped: 'bool',
  RouteAllMessagesViaOnPremises: 'bool',
  Comment: 'string?',
};
const RULE_SCHEMA: Schema = {
  Name: 'string',
  Priority: 'int',
  Enabled: 'bool',
  Mode: ['Enforce', 'Audit', 'AuditAndNotify'],
  StopRuleProcessing: 'bool',
  SentTo: 'strings',
  SentToMemberOf: 'strings',
  RecipientDomainIs: 'strings',
  SentToScope: ['InOrganization', 'NotInOrganization', 'ExternalPartner', 'ExternalNonPartner'],
  FromScope: ['InOrganization', 'NotInOrganization'],
  From: 'strings',
  SenderDomainIs: 'strings',
  ExceptIfHeaderContainsMessageHeader: 'string?',
  ExceptIfHeaderContainsWords: 'strings',
  ExceptIfSentTo: 'strings',
  ExceptIfRecipientDomainIs: 'strings',
  ExceptIfSenderIpRanges: 'strings',
  RouteMessageOutboundConnector: 'string?',
  RedirectMessageTo: 'strings',
  DeleteMessage: 'bool',
  Quarantine: 'bool',
  RejectMessageReasonText: 'string?',
  BlindCopyTo: 'strings',
  ModerateMessageByUser: 'strings',
  SetHeaderName: 'string?',
  SetHeaderValue: 'string?',
  Comments: 'string?',
};
/** Common parameters every cmdlet accepts (and ignores here). */
const COMMON = new Set(['Confirm', 'WhatIf', 'ErrorAction', 'WarningAction', 'Force']);

/** Reads `Parameters` against a schema: unknown names and wrong types fail as PowerShell's parameter binding does. */
function bind(cmdlet: string, parameters: Record<string, unknown>, schema: Schema, extra: readonly string[] = []): Record<string, unknown> {
  const bound: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parameters)) {
    const key = Object.keys(schema).find((candidate) => candidate.toLowerCase() === name.toLowerCase()) ?? extra.find((candidate) => candidate.toLowerCase() === name.toLowerCase());
    if (!key) {
      if ([...COMMON].some((common) => common.toLowerCase() === name.toLowerCase())) {
        continue;
      }
      throw new ExoCmdletFault(400, BAD_PARAMETER, 'NamedParameterNotFound', `A parameter cannot be found that matches parameter name '${name}'. (${cmdlet})`);
    }
    const type = schema[key] ?? 'string';
    const wrong = () => new ExoCmdletFault(400, BAD_PARAMETER, 'CannotConvertArgument', `Cannot bind parameter '${key}'. Cannot convert value "${String(value)}" of ${cmdlet}.`);
    if (Array.isArray(type)) {
      const match = type.find((option) => option.toLowerCase() === String(value).toLowerCase());
      if (value === null && (key === 'SentToScope' || key === 'FromScope')) {
        bound[key] = null;
        continue;
      }
      if (!match) {
        throw wrong();
      }
      bound[key] = match;
    } else if (type === 'bool') {
      if (typeof value !== 'boolean') {
        throw wrong();
      }
      bound[key] = value;
    } else if (type === 'int') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        throw wrong();
      }
      bound[key] = value;
    } else if (type === 'strings') {
      // Multi-valued parameters take an array or one string (PowerShell binds a scalar to a one-element array).
      const list = value === null ? [] : Array.isArray(value) ? value : [value];
      if (!list.every((item) => typeof item === 'string' && item.length > 0)) {
        throw wrong();
      }
      bound[key] = list;
    } else if (type === 'string?') {
      if (value !== null && typeof value !== 'string') {
        throw wrong();
      }
      bound[key] = value === '' ? null : value;
    } else {
      if (typeof value !== 'string' || !value) {
        throw wrong();
      }
      bound[key] = value;
    }
  }
  return bound;
}

const now = () => new Date().toISOString();

export class FakeExchangeOnline {
  readonly invocations: ExoInvocation[] = [];
  /** Extra `@adminapi.warnings` answered for a cmdlet. */
  readonly warnings: Record<string, string[]> = {};
  /** Page size when the client sends no `Prefer: odata.maxpagesize`. */
  pageSize = 100;
  baseUrl = '';
  private readonly stores = new Map<string, ExoTenantStore>();
  private readonly faults: Array<ExoFault & { left: number }> = [];
  private readonly sockets = new Set<Socket>();
  private server?: Server;

  constructor(private readonly authority: ExchangeTokenAuthority) {}

  /** The tenant's Exchange objects (created empty on first use). */
  store(tenantId: string): ExoTenantStore {
    if (!this.authority.hasTenant(tenantId)) {
      throw new Error(`fake exchange: no tenant ${tenantId}`);
    }
    let store = this.stores.get(tenantId);
    if (!store) {
      store = { acceptedDomains: [], inboundConnectors: [], outboundConnectors: [], transportRules: [], arcConfig: { Identity: 'Default', ArcTrustedSealers: [] }, adminRole: true };
      this.stores.set(tenantId, store);
    }
    return store;
  }

  inboundConnectors(tenantId: string): ExoInboundConnector[] {
    return this.store(tenantId).inboundConnectors;
  }

  outboundConnectors(tenantId: string): ExoOutboundConnector[] {
    return this.store(tenantId).outboundConnectors;
  }

  /** Transport rules in evaluation order (Priority 0 first). */
  rules(tenantId: string): ExoTransportRule[] {
    return this.store(tenantId).transportRules.sort((a, b) => a.Priority - b.Priority);
  }

  arcConfig(tenantId: string): ExoArcConfig {
    return this.store(tenantId).arcConfig;
  }

  addAcceptedDomain(tenantId: string, domainName: string, domainType: ExoAcceptedDomain['DomainType'] = 'Authoritative'): ExoAcceptedDomain {
    const store = this.store(tenantId);
    const domain: ExoAcceptedDomain = { Identity: domainName, Name: domainName, DomainName: domainName, DomainType: domainType, Default: store.acceptedDomains.length === 0 };
    store.acceptedDomains.push(domain);
    return domain;
  }

  /** Whether the app's service principal holds the Exchange Administrator role in the tenant. */
  setAdminRole(tenantId: string, granted: boolean): void {
    this.store(tenantId).adminRole = granted;
  }

  inject(fault: ExoFault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  invocationsOf(cmdlet: string): ExoInvocation[] {
    return this.invocations.filter((invocation) => invocation.cmdlet.toLowerCase() === cmdlet.toLowerCase());
  }

  /** Runs a cmdlet as the tenant's admin would (no token, no faults): same validation and effects as over REST. */
  run(tenantId: string, cmdlet: string, parameters: Record<string, unknown> = {}): { value: unknown[]; warnings: string[] } {
    return this.execute(this.store(tenantId), cmdlet, parameters);
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => void this.serve(request, response));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) {
      chunks.push(chunk as Buffer);
    }
    const url = new URL(request.url ?? '/', this.baseUrl);
    const reply = this.handle(request.method ?? 'GET', url, request.headers, Buffer.concat(chunks).toString('utf8'));
    response.writeHead(reply.status, { 'content-type': 'application/json; odata.metadata=minimal', ...reply.headers });
    response.end(JSON.stringify(reply.body));
  }

  private handle(method: string, url: URL, headers: IncomingMessage['headers'], raw: string): { status: number; headers?: Record<string, string>; body: unknown } {
    const route = /^\/adminapi\/beta\/([^/]+)\/InvokeCommand$/i.exec(url.pathname);
    const failure = (status: number, type: string, code: string, message: string, extraHeaders: Record<string, string> = {}) => ({
      status,
      headers: extraHeaders,
      body: {
        error: {
          code: status === 429 ? 'TooManyRequests' : status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 404 ? 'NotFound' : 'BadRequest',
          message: status >= 500 ? 'An internal server error occurred.' : message,
          details: [{ code: 'Context', target: '', message: `${type}|${code}|${message}` }],
          innererror: { message, type, 'request-id': randomUUID() },
        },
      },
    });
    if (!route || method !== 'POST') {
      return failure(404, 'System.Web.HttpException', 'NotFound', `No route for ${method} ${url.pathname}.`);
    }
    const tenantId = decodeURIComponent(route[1]!);
    let body: { CmdletInput?: { CmdletName?: unknown; Parameters?: unknown } };
    try {
      body = JSON.parse(raw) as typeof body;
    } catch {
      return failure(400, 'System.Runtime.Serialization.SerializationException', 'BadRequest', 'The request body is not valid JSON.');
    }
    const cmdlet = typeof body?.CmdletInput?.CmdletName === 'string' ? body.CmdletInput.CmdletName : '';
    const parameters = (body?.CmdletInput?.Parameters ?? {}) as Record<string, unknown>;
    const invocation: ExoInvocation = { tenant: tenantId, cmdlet, parameters, status: 0, skipToken: url.searchParams.get('$skiptoken') };
    this.invocations.push(invocation);
    const answer = (reply: { status: number; headers?: Record<string, string>; body: unknown }) => {
      invocation.status = reply.status;
      return reply;
    };

    const bearer = /^Bearer (.+)$/.exec(String(headers.authorization ?? ''))?.[1];
    const token = bearer ? this.authority.describeToken(bearer) : null;
    const unauthorized = (message: string) => answer(failure(401, 'Microsoft.Exchange.Security.Authentication.AuthenticationException', 'Unauthorized', message, { 'www-authenticate': 'Bearer' }));
    if (!token) {
      return unauthorized('The access token is missing or invalid.');
    }
    if (token === 'expired') {
      return unauthorized('The access token has expired.');
    }
    if (token.audience !== 'exchange') {
      return unauthorized(`The audience of the access token is not ${this.baseUrl}.`);
    }
    if (token.tenant !== tenantId) {
      return answer(failure(403, 'Microsoft.Exchange.Security.Authorization.AuthorizationException', 'Forbidden', 'The access token was issued for another tenant.'));
    }
    if (!this.authority.hasPermission(tenantId, 'Exchange.ManageAsApp')) {
      return unauthorized('The role Exchange.ManageAsApp is missing from the access token.');
    }
    if (typeof body?.CmdletInput?.CmdletName !== 'string' || typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
      return answer(failure(400, BAD_PARAMETER, 'BadRequest', 'CmdletInput must carry CmdletName and a Parameters object.'));
    }
    const named = headers['x-cmdletname'];
    if (named !== undefined && String(named).toLowerCase() !== cmdlet.toLowerCase()) {
      return answer(failure(400, BAD_PARAMETER, 'BadRequest', `X-CmdletName '${String(named)}' does not match CmdletInput '${cmdlet}'.`));
    }
    const fault = this.faults.find((candidate) => candidate.left > 0 && (!candidate.cmdlet || candidate.cmdlet.toLowerCase() === cmdlet.toLowerCase()));
    if (fault) {
      fault.left--;
      if (fault.afterApply) {
        try {
          this.execute(this.store(tenantId), cmdlet, parameters);
        } catch {
          // the fault is answered either way
        }
      }
      const headersOut: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      return answer(
        failure(
          fault.status,
          fault.type ?? (fault.status === 429 ? 'Microsoft.Exchange.Admin.OData.Core.ThrottlingException' : 'Microsoft.Exchange.Admin.OData.Core.ServerException'),
          fault.code ?? (fault.status === 429 ? 'TooManyRequests' : 'ServerError'),
          fault.message ?? (fault.status === 429 ? 'The request was throttled. Retry after the time in Retry-After.' : 'Injected failure'),
          headersOut,
        ),
      );
    }
    const store = this.store(tenantId);
    let result: { value: unknown[]; warnings: string[] };
    try {
      result = this.execute(store, cmdlet, parameters);
    } catch (error) {
      if (error instanceof ExoCmdletFault) {
        return answer(failure(error.status, error.type, error.code, error.message));
      }
      throw error;
    }
    const preferred = /odata\.maxpagesize=(\d+)/i.exec(String(headers.prefer ?? ''))?.[1];
    const size = Math.max(1, Math.min(Number(preferred ?? this.pageSize), 1000));
    const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
    const out: Record<string, unknown> = { '@odata.context': `${this.baseUrl}/adminapi/beta/${tenantId}/$metadata#Collection(Exchange.GenericHashTable)`, value: result.value.slice(skip, skip + size) };
    if (skip + size < result.value.length) {
      const next = new URL(url.toString());
      next.searchParams.set('$skiptoken', String(skip + size));
      out['@odata.nextLink'] = next.toString();
    }
    if (result.warnings.length > 0 && skip === 0) {
      out['@adminapi.warnings'] = result.warnings;
    }
    return answer({ status: 200, headers: preferred ? { 'preference-applied': `odata.maxpagesize=${size}` } : {}, body: out });
  }

  private execute(store: ExoTenantStore, cmdlet: string, parameters: Record<string, unknown>): { value: unknown[]; warnings: string[] } {
    if (/^Get-AcceptedDomain$/i.test(cmdlet) && store.adminRole) {
      bind(cmdlet, parameters, {}, []);
      return { value: structuredClone(store.acceptedDomains), warnings: [] };
    }
    const match = /^(Get|New|Set|Remove|Enable|Disable)-(InboundConnector|OutboundConnector|TransportRule|ArcConfig)$/i.exec(cmdlet);
    const verb = match ? match[1]!.toLowerCase() : '';
    const noun = match ? (['InboundConnector', 'OutboundConnector', 'TransportRule', 'ArcConfig'].find((candidate) => candidate.toLowerCase() === match[2]!.toLowerCase()) as Kind | 'ArcConfig') : null;
    const known = noun && (noun === 'ArcConfig' ? ['get', 'set'].includes(verb) : noun === 'TransportRule' || !['enable', 'disable'].includes(verb));
    if (!known || !store.adminRole) {
      throw new ExoCmdletFault(400, NO_COMMAND, 'CommandNotFound', `The term '${cmdlet}' is not recognized as a name of a cmdlet, function, script file, or executable program.`);
    }
    const extra = [...(this.warnings[cmdlet] ?? Object.entries(this.warnings).find(([name]) => name.toLowerCase() === cmdlet.toLowerCase())?.[1] ?? [])];
    const done = (value: unknown[], warnings: string[] = []) => ({ value: structuredClone(value), warnings: [...warnings, ...extra] });
    if (noun === 'ArcConfig') {
      if (verb === 'get') {
        bind(cmdlet, parameters, {}, ['Identity']);
        return done([store.arcConfig]);
      }
      const bound = bind(cmdlet, parameters, { ArcTrustedSealers: 'strings' }, ['Identity']);
      if (bound.ArcTrustedSealers !== undefined) {
        // Set-ArcConfig takes "a.com,b.com" or a list; the value replaces the list.
        store.arcConfig.ArcTrustedSealers = (bound.ArcTrustedSealers as string[]).flatMap((item) => item.split(',')).map((item) => item.trim()).filter(Boolean);
      }
      return done([]);
    }
    const kind = noun as Kind;
    const list = (kind === 'InboundConnector' ? store.inboundConnectors : kind === 'OutboundConnector' ? store.outboundConnectors : store.transportRules) as Array<{
      Identity: string;
      Name: string;
      Guid: string;
    }>;
    const find = (identity: unknown) => {
      if (typeof identity !== 'string' || !identity) {
        throw new ExoCmdletFault(400, BAD_PARAMETER, 'ParameterArgumentValidationErrorEmptyStringNotAllowed', `Cannot validate argument on parameter 'Identity'. (${cmdlet})`);
      }
      const found = list.find((item) => item.Name.toLowerCase() === identity.toLowerCase() || item.Guid.toLowerCase() === identity.toLowerCase());
      if (!found) {
        throw notFound(kind, identity);
      }
      return found;
    };
    const identity = Object.entries(parameters).find(([name]) => name.toLowerCase() === 'identity')?.[1];
    const rest = Object.fromEntries(Object.entries(parameters).filter(([name]) => name.toLowerCase() !== 'identity'));
    if (verb === 'get') {
      bind(cmdlet, rest, {}, []);
      return done(identity === undefined ? (kind === 'TransportRule' ? this.sortRules(store) : list) : [find(identity)]);
    }
    if (verb === 'remove') {
      bind(cmdlet, rest, {}, []);
      const target = find(identity);
      if (kind === 'OutboundConnector' && store.transportRules.some((rule) => rule.RouteMessageOutboundConnector?.toLowerCase() === target.Name.toLowerCase())) {
        throw new ExoCmdletFault(400, IN_USE, 'ExC2B5C9', `Outbound connector '${target.Name}' can't be removed because transport rules use it.`);
      }
      list.splice(list.indexOf(target), 1);
      if (kind === 'TransportRule') {
        this.sortRules(store).forEach((rule, index) => (rule.Priority = index));
      }
      return done([]);
    }
    if (verb === 'enable' || verb === 'disable') {
      bind(cmdlet, rest, {}, []);
      const rule = find(identity) as ExoTransportRule;
      rule.State = verb === 'enable' ? 'Enabled' : 'Disabled';
      rule.WhenChanged = now();
      return done([]);
    }
    const schema = kind === 'InboundConnector' ? INBOUND_SCHEMA : kind === 'OutboundConnector' ? OUTBOUND_SCHEMA : RULE_SCHEMA;
    if (verb === 'new') {
      const bound = bind(cmdlet, parameters, schema);
      const name = bound.Name as string | undefined;
      if (!name) {
        throw new ExoCmdletFault(400, BAD_PARAMETER, 'MissingMandatoryParameter', `Cannot process command because of one or more missing mandatory parameters: Name. (${cmdlet})`);
      }
      if (list.some((item) => item.Name.toLowerCase() === name.toLowerCase())) {
        throw new ExoCmdletFault(400, ALREADY_EXISTS, 'Ex2EAC2B', `The object '${name}' already exists under '${kind}'.`);
      }
      const base = { Identity: name, Name: name, Guid: randomUUID() };
      if (kind === 'InboundConnector') {
        const connector: ExoInboundConnector = {
          ...base,
          ConnectorType: 'Partner',
          Enabled: true,
          SenderDomains: [],
          SenderIPAddresses: [],
          RestrictDomainsToIPAddresses: false,
          RequireTls: false,
          TlsSenderCertificateName: null,
          RestrictDomainsToCertificate: false,
          TreatMessagesAsInternal: false,
          EFSkipIPs: [],
          EFSkipLastIP: false,
          Comment: null,
          WhenCreated: now(),
          WhenChanged: now(),
          ...(bound as Partial<ExoInboundConnector>),
        };
        this.validateInbound(connector);
        store.inboundConnectors.push(connector);
        return done([connector]);
      }
      if (kind === 'OutboundConnector') {
        const connector: ExoOutboundConnector = {
          ...base,
          ConnectorType: 'Partner',
          Enabled: true,
          SmartHosts: [],
          UseMXRecord: true,
          RecipientDomains: [],
          TlsSettings: null,
          TlsDomain: null,
          IsTransportRuleScoped: false,
          RouteAllMessagesViaOnPremises: false,
          Comment: null,
          WhenCreated: now(),
          WhenChanged: now(),
          ...(bound as Partial<ExoOutboundConnector>),
        };
        if (bound.SmartHosts !== undefined && bound.UseMXRecord === undefined) {
          connector.UseMXRecord = false;
        }
        this.validateOutbound(connector);
        store.outboundConnectors.push(connector);
        return done([connector], ['Connector creation may take up to 10 minutes to take effect.']);
      }
      const { Enabled, Priority, ...fields } = bound as Partial<ExoTransportRule> & { Enabled?: boolean };
      const rule: ExoTransportRule = {
        ...base,
        Priority: store.transportRules.length,
        State: Enabled === false ? 'Disabled' : 'Enabled',
        Mode: 'Enforce',
        StopRuleProcessing: false,
        SentTo: [],
        SentToMemberOf: [],
        RecipientDomainIs: [],
        SentToScope: null,
        FromScope: null,
        From: [],
        SenderDomainIs: [],
        ExceptIfHeaderContainsMessageHeader: null,
        ExceptIfHeaderContainsWords: [],
        ExceptIfSentTo: [],
        ExceptIfRecipientDomainIs: [],
        ExceptIfSenderIpRanges: [],
        RouteMessageOutboundConnector: null,
        RedirectMessageTo: [],
        DeleteMessage: false,
        Quarantine: false,
        RejectMessageReasonText: null,
        BlindCopyTo: [],
        ModerateMessageByUser: [],
        SetHeaderName: null,
        SetHeaderValue: null,
        Comments: null,
        WhenChanged: now(),
        ...fields,
      };
      this.validateRule(store, rule);
      const rules = this.sortRules(store);
      const at = Priority === undefined ? rules.length : Priority;
      if (at > rules.length) {
        throw invalid(`The value of Priority must be between 0 and ${rules.length}.`);
      }
      // `rules` is the store's own array, sorted: insert and renumber in place.
      rules.splice(at, 0, rule);
      rules.forEach((item, index) => (item.Priority = index));
      return done([rule]);
    }
    // set
    const target = find(identity) as unknown as Record<string, unknown>;
    const bound = bind(cmdlet, rest, schema);
    if (bound.Name !== undefined && bound.Name !== target.Name && list.some((item) => item.Name.toLowerCase() === String(bound.Name).toLowerCase())) {
      throw new ExoCmdletFault(400, ALREADY_EXISTS, 'Ex2EAC2B', `The object '${String(bound.Name)}' already exists under '${kind}'.`);
    }
    const updated = { ...target, ...bound, WhenChanged: now() } as Record<string, unknown>;
    if (bound.Name !== undefined) {
      updated.Identity = bound.Name;
    }
    if (kind === 'InboundConnector') {
      this.validateInbound(updated as unknown as ExoInboundConnector);
    } else if (kind === 'OutboundConnector') {
      this.validateOutbound(updated as unknown as ExoOutboundConnector);
    } else {
      const { Enabled, Priority } = updated as { Enabled?: boolean; Priority: number };
      delete updated.Enabled;
      if (Enabled !== undefined) {
        updated.State = Enabled ? 'Enabled' : 'Disabled';
      }
      this.validateRule(store, updated as unknown as ExoTransportRule);
      const others = this.sortRules(store).filter((rule) => rule !== (target as unknown));
      if (bound.Priority !== undefined && Priority > others.length) {
        throw invalid(`The value of Priority must be between 0 and ${others.length}.`);
      }
      Object.assign(target, updated);
      others.splice(Math.min(Priority, others.length), 0, target as unknown as ExoTransportRule);
      others.forEach((rule, index) => (rule.Priority = index));
      store.transportRules.splice(0, store.transportRules.length, ...others);
      return done([]);
    }
    if (kind === 'OutboundConnector' && bound.Name !== undefined && store.transportRules.some((rule) => rule.RouteMessageOutboundConnector?.toLowerCase() === String(target.Name).toLowerCase())) {
      throw new ExoCmdletFault(400, IN_USE, 'ExC2B5C9', `Outbound connector '${String(target.Name)}' can't be renamed because transport rules use it.`);
    }
    Object.assign(target, updated);
    return done([]);
  }

  private sortRules(store: ExoTenantStore): ExoTransportRule[] {
    return store.transportRules.sort((a, b) => a.Priority - b.Priority);
  }

  private validateInbound(connector: ExoInboundConnector): void {
    if (connector.RestrictDomainsToCertificate && !connector.TlsSenderCertificateName) {
      throw invalid('RestrictDomainsToCertificate requires TlsSenderCertificateName.');
    }
    if (connector.RestrictDomainsToIPAddresses && connector.SenderIPAddresses.length === 0) {
      throw invalid('RestrictDomainsToIPAddresses requires SenderIPAddresses.');
    }
    if (connector.ConnectorType === 'Partner' && connector.SenderDomains.length === 0) {
      throw invalid('A Partner inbound connector needs SenderDomains.');
    }
    if (connector.ConnectorType === 'OnPremises' && !connector.TlsSenderCertificateName && connector.SenderIPAddresses.length === 0) {
      throw invalid('An OnPremises inbound connector needs TlsSenderCertificateName or SenderIPAddresses.');
    }
    for (const ip of [...connector.SenderIPAddresses, ...connector.EFSkipIPs]) {
      if (!validIpRange(ip)) {
        throw invalid(`'${ip}' is not a valid IP address or range.`);
      }
    }
  }

  private validateOutbound(connector: ExoOutboundConnector): void {
    if (!connector.UseMXRecord && connector.SmartHosts.length === 0) {
      throw invalid('SmartHosts is required when UseMXRecord is $false.');
    }
    if (connector.UseMXRecord && connector.SmartHosts.length > 0) {
      throw invalid('SmartHosts cannot be set when UseMXRecord is $true.');
    }
    if (connector.TlsSettings === 'DomainValidation' && !connector.TlsDomain) {
      throw invalid('TlsDomain is required when TlsSettings is DomainValidation.');
    }
    if (connector.TlsSettings !== 'DomainValidation' && connector.TlsDomain) {
      throw invalid('TlsDomain can only be set when TlsSettings is DomainValidation.');
    }
    if (connector.IsTransportRuleScoped && connector.RecipientDomains.length > 0) {
      throw invalid('A connector scoped to transport rules cannot have RecipientDomains.');
    }
  }

  private validateRule(store: ExoTenantStore, rule: ExoTransportRule): void {
    if (rule.RouteMessageOutboundConnector && !store.outboundConnectors.some((connector) => connector.Name.toLowerCase() === rule.RouteMessageOutboundConnector!.toLowerCase())) {
      throw notFound('OutboundConnector', rule.RouteMessageOutboundConnector);
    }
    if (rule.ExceptIfHeaderContainsWords.length > 0 && !rule.ExceptIfHeaderContainsMessageHeader) {
      throw invalid('ExceptIfHeaderContainsWords requires ExceptIfHeaderContainsMessageHeader.');
    }
    for (const range of rule.ExceptIfSenderIpRanges) {
      if (!validIpRange(range)) {
        throw invalid(`'${range}' is not a valid IP address or range (ExceptIfSenderIpRanges).`);
      }
    }
    if (rule.SetHeaderName && rule.SetHeaderValue === null) {
      throw invalid('SetHeaderName requires SetHeaderValue.');
    }
  }
}
