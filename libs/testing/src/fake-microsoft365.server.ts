import { createHash, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import jwt from 'jsonwebtoken';
import { FakeExchangeOnline } from './fake-exchange-online';
import { FakeMicrosoftIdentity } from './fake-microsoft-identity';

/**
 * A faithful local stand-in for Microsoft 365 (login + Graph v1.0) for tests, on 127.0.0.1. It speaks the documented
 * wire formats of ../shared/m365/WIRE.md: client-credentials tokens (secret or PS256 client assertion with x5t#S256),
 * the admin-consent redirect, users / groups / members with `/delta` (deltaLink, `@removed`), messages with the
 * `internetMessageId` filter, move (new id), permanentDelete, `$batch`, Microsoft's error JSON, and injectable
 * 429 Retry-After, 5xx, expired tokens and missing permissions. Every request is recorded for assertions.
 *
 * Where Microsoft's docs leave a detail open, the reading implemented here is named in a comment.
 */

/** Graph application permissions, and Exchange Online's `Exchange.ManageAsApp` (checked by `exchange`). */
export type FakePermission = 'Mail.ReadWrite' | 'User.Read.All' | 'Group.Read.All' | 'Exchange.ManageAsApp';

export interface FakeUser {
  id: string;
  userPrincipalName: string;
  mail: string | null;
  displayName: string;
  proxyAddresses: string[];
  accountEnabled: boolean;
}

export interface FakeGroup {
  id: string;
  displayName: string;
  mail: string | null;
  members: Set<string>;
}

export interface FakeMessage {
  id: string;
  internetMessageId: string;
  subject: string;
  parentFolderId: string;
  /** Graph `internetMessageHeaders` (name/value pairs as delivered); empty for messages placed with `deliver` alone. */
  internetMessageHeaders?: Array<{ name: string; value: string }>;
  receivedDateTime?: string;
  /** The MIME content as Exchange stored it (Graph `/$value`; not served by the fake yet). */
  raw?: Buffer;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  tenant: string | null;
  /** The mailbox (user id or UPN as addressed) of a /users/{x}/messages|mailFolders call. */
  mailbox: string | null;
  body: unknown;
  status: number;
  inBatch: boolean;
}

export interface Fault {
  method?: string;
  /** Tested against the request path (no query). */
  path: RegExp;
  status: number;
  code?: string;
  message?: string;
  retryAfterSeconds?: number;
  /** How many matching requests get this answer (default 1). */
  times?: number;
}

interface TenantState {
  id: string;
  consented: boolean;
  permissions: Set<FakePermission>;
  users: Map<string, FakeUser>;
  groups: Map<string, FakeGroup>;
  /** Directory change log for delta: version → object id and kind. */
  changes: Array<{ version: number; kind: 'user' | 'group'; id: string }>;
  version: number;
  mailboxes: Map<string, { folders: Record<string, string>; messages: Map<string, FakeMessage> }>;
}

interface IssuedToken {
  tenant: string;
  expiresAt: number;
  /** Which resource's scope the token was asked for (Graph, or the fake Exchange Online at `exchange.baseUrl`). */
  audience: 'graph' | 'exchange';
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

const WELL_KNOWN_FOLDERS = ['inbox', 'junkemail', 'deleteditems', 'recoverableitemsdeletions', 'sentitems'];

const graphError = (status: number, code: string, message: string, spelling: 'innerError' | 'innererror' = 'innerError'): Reply => ({
  status,
  body: { error: { code, message, [spelling]: { date: new Date().toISOString(), 'request-id': randomUUID(), 'client-request-id': randomUUID() } } },
});

const loginError = (status: number, error: string, description: string, code: number): Reply => ({
  status,
  body: { error, error_description: `AADSTS${code}: ${description}`, error_codes: [code], timestamp: new Date().toISOString(), trace_id: randomUUID(), correlation_id: randomUUID() },
});

export class FakeMicrosoft365 {
  readonly requests: RecordedRequest[] = [];
  readonly clientId = randomUUID();
  readonly clientSecret = `fake-secret-${randomBytes(12).toString('base64url')}`;
  /** Highest number of requests in flight at once, per mailbox as addressed (lower-case). */
  readonly maxConcurrentPerMailbox = new Map<string, number>();
  /** Milliseconds each Graph mailbox request takes (so concurrency shows). */
  latencyMs = 0;
  /** Token lifetime answered as `expires_in`. */
  tokenLifetimeSeconds = 3599;
  /** The admin's answer on the consent page. */
  consentAnswer: 'accept' | { error: string; description: string } = 'accept';
  /** Page size of lists and delta rounds. */
  pageSize = 10;
  /** Mutating mailbox requests (move, permanentDelete) after this many are applied but their answers held back. */
  holdMutationsAfter: number | null = null;
  private mutations = 0;
  private readonly held: Array<{ response: ServerResponse }> = [];
  private readonly tenants = new Map<string, TenantState>();
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly faults: Array<Fault & { left: number }> = [];
  private readonly inFlight = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private certificateThumbprint: string | null = null;
  private certificatePublicKey: string | null = null;
  private server?: Server;
  baseUrl = '';
  /** Exchange Online (InvokeCommand, connectors, transport rules) on its own port: see fake-exchange-online.ts. */
  readonly exchange = new FakeExchangeOnline({
    hasTenant: (tenantId) => this.tenants.has(tenantId),
    hasPermission: (tenantId, permission) => this.tenants.get(tenantId)?.permissions.has(permission as FakePermission) ?? false,
    describeToken: (bearer) => {
      const token = this.tokens.get(bearer);
      return !token ? null : token.expiresAt <= Date.now() ? 'expired' : { tenant: token.tenant, audience: token.audience };
    },
  });
  /** OpenID Connect sign-in of people (authorize, token with PKCE, discovery, JWKS): fake-microsoft-identity.ts. */
  readonly identity = new FakeMicrosoftIdentity(() => this.baseUrl);

  /** Accepts client assertions signed for this certificate (PEM). */
  registerCertificate(certificatePem: string): void {
    const certificate = new X509Certificate(certificatePem);
    this.certificateThumbprint = createHash('sha256').update(certificate.raw).digest('base64url');
    this.certificatePublicKey = certificate.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  addTenant(permissions: FakePermission[] = ['Mail.ReadWrite', 'User.Read.All', 'Group.Read.All', 'Exchange.ManageAsApp'], consented = false): string {
    const id = randomUUID();
    this.tenants.set(id, { id, consented, permissions: new Set(permissions), users: new Map(), groups: new Map(), changes: [], version: 0, mailboxes: new Map() });
    return id;
  }

  setPermissions(tenantId: string, permissions: FakePermission[]): void {
    this.tenant(tenantId).permissions = new Set(permissions);
  }

  addUser(tenantId: string, user: Partial<FakeUser> & { userPrincipalName: string }): FakeUser {
    const tenant = this.tenant(tenantId);
    const full: FakeUser = { id: randomUUID(), mail: user.userPrincipalName, displayName: user.userPrincipalName.split('@')[0]!, proxyAddresses: [], accountEnabled: true, ...user };
    tenant.users.set(full.id, full);
    const folders = Object.fromEntries(WELL_KNOWN_FOLDERS.map((name) => [name, `AAMk${randomBytes(9).toString('base64url')}`]));
    tenant.mailboxes.set(full.id, { folders, messages: new Map() });
    this.touch(tenant, 'user', full.id);
    return full;
  }

  updateUser(tenantId: string, userId: string, change: Partial<Omit<FakeUser, 'id'>>): void {
    const tenant = this.tenant(tenantId);
    Object.assign(tenant.users.get(userId)!, change);
    this.touch(tenant, 'user', userId);
  }

  removeUser(tenantId: string, userId: string): void {
    const tenant = this.tenant(tenantId);
    tenant.users.delete(userId);
    for (const group of tenant.groups.values()) {
      if (group.members.delete(userId)) {
        this.touch(tenant, 'group', group.id);
      }
    }
    this.touch(tenant, 'user', userId);
  }

  addGroup(tenantId: string, displayName: string, memberIds: string[] = []): FakeGroup {
    const tenant = this.tenant(tenantId);
    const group: FakeGroup = { id: randomUUID(), displayName, mail: null, members: new Set(memberIds) };
    tenant.groups.set(group.id, group);
    this.touch(tenant, 'group', group.id);
    return group;
  }

  setGroupMembers(tenantId: string, groupId: string, memberIds: string[]): void {
    const tenant = this.tenant(tenantId);
    tenant.groups.get(groupId)!.members = new Set(memberIds);
    this.touch(tenant, 'group', groupId);
  }

  /** Delivers a message into a user's inbox; returns its Graph id. */
  deliver(tenantId: string, userId: string, internetMessageId: string, subject = 'test', content: { headers?: Array<{ name: string; value: string }>; raw?: Buffer } = {}): FakeMessage {
    const mailbox = this.tenant(tenantId).mailboxes.get(userId)!;
    const message: FakeMessage = {
      id: `AAMkMsg${randomBytes(12).toString('base64url')}`,
      internetMessageId,
      subject,
      parentFolderId: mailbox.folders.inbox!,
      internetMessageHeaders: content.headers ?? [],
      receivedDateTime: new Date().toISOString(),
      raw: content.raw,
    };
    mailbox.messages.set(message.id, message);
    return message;
  }

  tenantIds(): string[] {
    return [...this.tenants.keys()];
  }

  usersOf(tenantId: string): FakeUser[] {
    return [...this.tenant(tenantId).users.values()];
  }

  /** The enabled user whose UPN, mail or an `smtp:` proxy address is this address (Exchange's recipient lookup). */
  findMailbox(tenantId: string, address: string): FakeUser | null {
    const wanted = address.toLowerCase();
    return (
      this.usersOf(tenantId).find(
        (user) =>
          user.accountEnabled &&
          (user.userPrincipalName.toLowerCase() === wanted ||
            user.mail?.toLowerCase() === wanted ||
            user.proxyAddresses.some((proxy) => proxy.toLowerCase() === `smtp:${wanted}`)),
      ) ?? null
    );
  }

  /** Whether the user is a member of the group named by display name, mail or id. */
  isMember(tenantId: string, group: string, userId: string): boolean {
    const wanted = group.toLowerCase();
    return [...this.tenant(tenantId).groups.values()].some(
      (candidate) => (candidate.id === group || candidate.displayName.toLowerCase() === wanted || candidate.mail?.toLowerCase() === wanted) && candidate.members.has(userId),
    );
  }

  /** Messages in a user's mailbox (any folder). */
  messagesOf(tenantId: string, userId: string): FakeMessage[] {
    return [...this.tenant(tenantId).mailboxes.get(userId)!.messages.values()];
  }

  /** Users of a tenant with this UPN (case-insensitive). */
  locateUser(tenantId: string, userPrincipalName: string): FakeUser[] {
    return [...this.tenant(tenantId).users.values()].filter((user) => user.userPrincipalName.toLowerCase() === userPrincipalName.toLowerCase());
  }

  /** Where a message with this Internet Message-ID now is in a user's mailbox (well-known folder name), or null. */
  locate(tenantId: string, userId: string, internetMessageId: string): Array<{ folder: string; id: string }> {
    const mailbox = this.tenant(tenantId).mailboxes.get(userId)!;
    return [...mailbox.messages.values()]
      .filter((message) => message.internetMessageId === internetMessageId)
      .map((message) => ({ id: message.id, folder: Object.entries(mailbox.folders).find(([, id]) => id === message.parentFolderId)?.[0] ?? 'unknown' }));
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  /** Every token issued so far is expired from now on (Graph answers 401 InvalidAuthenticationToken). */
  expireTokens(): void {
    for (const token of this.tokens.values()) {
      token.expiresAt = 0;
    }
  }

  /** From now on, apply mutating mailbox requests but hold back the answers of all after the first `after`. */
  holdMutations(after: number | null): void {
    this.holdMutationsAfter = after;
    this.mutations = 0;
  }

  /** Sends back the answers held by `holdMutationsAfter`... never: the connections are cut, as a crash would leave them. */
  dropHeld(): void {
    for (const { response } of this.held.splice(0)) {
      response.socket?.destroy();
    }
  }

  requestsTo(pattern: RegExp, method?: string): RecordedRequest[] {
    return this.requests.filter((request) => pattern.test(request.path) && (!method || request.method === method));
  }

  /**
   * The settings that point an app's Microsoft 365 client (the app registration, sign-in and Graph) at this fake, once
   * started; with `exchange`, Exchange Online's admin API too (M365_EXCHANGE_BASE_URL).
   */
  appEnv(options: { exchange?: boolean } = {}): Record<string, string> {
    return {
      M365_CLIENT_ID: this.clientId,
      M365_CLIENT_SECRET: this.clientSecret,
      M365_LOGIN_BASE_URL: this.baseUrl,
      M365_GRAPH_BASE_URL: this.baseUrl,
      ...(options.exchange ? { M365_EXCHANGE_BASE_URL: this.exchange.baseUrl } : {}),
    };
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => void this.serve(request, response));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    await this.exchange.start();
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    this.dropHeld();
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await new Promise((resolve) => this.server?.close(resolve));
    await this.exchange.stop();
  }

  private tenant(id: string): TenantState {
    const tenant = this.tenants.get(id);
    if (!tenant) {
      throw new Error(`fake: no tenant ${id}`);
    }
    return tenant;
  }

  private touch(tenant: TenantState, kind: 'user' | 'group', id: string): void {
    tenant.version++;
    tenant.changes.push({ version: tenant.version, kind, id });
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) {
      chunks.push(chunk as Buffer);
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', this.baseUrl);
    const reply = await this.handle(request.method ?? 'GET', url, request.headers as Record<string, string | undefined>, raw, false, response);
    if (!reply) {
      return; // held back
    }
    response.writeHead(reply.status, { ...(reply.body !== undefined ? { 'content-type': 'application/json' } : {}), ...reply.headers });
    response.end(reply.body !== undefined ? JSON.stringify(reply.body) : undefined);
  }

  private async handle(method: string, url: URL, headers: Record<string, string | undefined>, raw: string, inBatch: boolean, response?: ServerResponse): Promise<Reply | null> {
    const record: RecordedRequest = { method, path: url.pathname, query: url.searchParams, tenant: null, mailbox: null, body: null, status: 0, inBatch };
    this.requests.push(record);
    try {
      record.body = raw && headers['content-type']?.includes('json') ? JSON.parse(raw) : raw ? Object.fromEntries(new URLSearchParams(raw)) : null;
    } catch {
      record.status = 400;
      return graphError(400, 'BadRequest', 'Unable to read JSON request payload.');
    }
    const finish = (reply: Reply) => {
      record.status = reply.status;
      return reply;
    };

    const addressed = /^\/v1\.0\/users\/([^/]+)\/(messages|mailFolders)/.exec(url.pathname);
    if (addressed) {
      record.mailbox = decodeURIComponent(addressed[1]!).toLowerCase();
    }
    const fault = this.faults.find((candidate) => candidate.left > 0 && candidate.path.test(url.pathname) && (!candidate.method || candidate.method === method));
    if (fault) {
      fault.left--;
      const reply = graphError(fault.status, fault.code ?? (fault.status === 429 ? 'TooManyRequests' : 'serviceNotAvailable'), fault.message ?? 'Injected failure');
      return finish({ ...reply, headers: fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {} });
    }

    const signIn = this.identity.handle(method, url, record.body as Record<string, string> | null, headers);
    if (signIn) {
      return finish(signIn);
    }
    const login = /^\/([^/]+)\/(oauth2\/v2\.0\/token|adminconsent)$/.exec(url.pathname);
    if (login) {
      record.tenant = login[1]!;
      return finish(login[2] === 'adminconsent' ? this.adminConsent(login[1]!, url) : this.token(login[1]!, record.body as Record<string, string> | null));
    }
    if (!url.pathname.startsWith('/v1.0/')) {
      return finish(graphError(404, 'BadRequest', 'Invalid version.'));
    }

    // Graph: bearer token first.
    const bearer = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    const token = bearer ? this.tokens.get(bearer) : undefined;
    if (!token) {
      return finish(graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.'));
    }
    if (token.expiresAt <= Date.now()) {
      return finish(graphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.'));
    }
    if (token.audience !== 'graph') {
      return finish(graphError(401, 'InvalidAuthenticationToken', 'Invalid audience.'));
    }
    const tenant = this.tenant(token.tenant);
    record.tenant = tenant.id;
    const route = url.pathname.slice('/v1.0'.length);

    if (route === '/$batch' && method === 'POST' && !inBatch) {
      return finish(await this.batch(record.body as { requests?: unknown[] } | null, headers));
    }

    const mailboxRoute = /^\/users\/([^/]+)\/(messages|mailFolders)(\/.*)?$/.exec(route);
    if (mailboxRoute) {
      const addressed = decodeURIComponent(mailboxRoute[1]!).toLowerCase();
      record.mailbox = addressed;
      const current = (this.inFlight.get(addressed) ?? 0) + 1;
      this.inFlight.set(addressed, current);
      this.maxConcurrentPerMailbox.set(addressed, Math.max(this.maxConcurrentPerMailbox.get(addressed) ?? 0, current));
      try {
        if (this.latencyMs > 0) {
          await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
        }
        if (!tenant.permissions.has('Mail.ReadWrite')) {
          return finish(graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'));
        }
        const reply = this.mailbox(tenant, addressed, mailboxRoute[2]!, mailboxRoute[3] ?? '', method, url, record.body);
        const mutating = method === 'POST' && /\/(move|permanentDelete)$/.test(url.pathname) && reply.status < 300;
        if (mutating && response && this.holdMutationsAfter !== null && ++this.mutations > this.holdMutationsAfter) {
          record.status = reply.status;
          this.held.push({ response });
          return null;
        }
        return finish(reply);
      } finally {
        this.inFlight.set(addressed, (this.inFlight.get(addressed) ?? 1) - 1);
      }
    }

    if (/^\/users(\/delta)?$/.test(route) || /^\/groups(\/delta)?$/.test(route) || /^\/groups\/[^/]+\/members$/.test(route)) {
      const needed: FakePermission = route.startsWith('/users') ? 'User.Read.All' : 'Group.Read.All';
      if (!tenant.permissions.has(needed)) {
        return finish(graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'));
      }
      return finish(this.directory(tenant, route, url));
    }
    return finish(graphError(400, 'BadRequest', `Resource not found for the segment '${route.split('/')[1] ?? ''}'.`));
  }

  private token(tenantId: string, form: Record<string, string> | null): Reply {
    const tenant = this.tenants.get(tenantId);
    if (!tenant) {
      return loginError(400, 'invalid_request', `Tenant '${tenantId}' not found.`, 90002);
    }
    if (form?.grant_type !== 'client_credentials') {
      return loginError(400, 'unsupported_grant_type', 'The provided value for the input parameter grant_type is not valid.', 70003);
    }
    if (form.client_id !== this.clientId) {
      return loginError(400, 'unauthorized_client', `Application with identifier '${form.client_id}' was not found in the directory.`, 700016);
    }
    const audience = form.scope === `${this.baseUrl}/.default` ? 'graph' : this.exchange.baseUrl && form.scope === `${this.exchange.baseUrl}/.default` ? 'exchange' : null;
    if (!audience) {
      return loginError(400, 'invalid_scope', `The provided value for the input parameter 'scope' is not valid.`, 1002012);
    }
    if (form.client_secret !== undefined) {
      if (form.client_secret !== this.clientSecret) {
        return loginError(401, 'invalid_client', 'Invalid client secret provided.', 7000215);
      }
    } else if (form.client_assertion_type === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' && form.client_assertion) {
      if (!this.certificatePublicKey) {
        return loginError(401, 'invalid_client', 'The certificate is not registered for the application.', 700027);
      }
      try {
        const decoded = jwt.verify(form.client_assertion, this.certificatePublicKey, {
          algorithms: ['PS256'],
          audience: `${this.baseUrl}/${tenantId}/oauth2/v2.0/token`,
          issuer: this.clientId,
          subject: this.clientId,
          complete: true,
        });
        if ((decoded.header as unknown as Record<string, unknown>)['x5t#S256'] !== this.certificateThumbprint || !(decoded.payload as jwt.JwtPayload).jti) {
          throw new Error('thumbprint');
        }
      } catch {
        return loginError(401, 'invalid_client', 'Client assertion failed signature validation.', 700027);
      }
    } else {
      return loginError(401, 'invalid_client', "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", 7000218);
    }
    if (!tenant.consented) {
      return loginError(400, 'unauthorized_client', 'The service principal for the application was not found in the tenant: an administrator has not consented.', 7000229);
    }
    const accessToken = `eyJ0eXAiOiJKV1Qi.${randomBytes(24).toString('base64url')}`;
    this.tokens.set(accessToken, { tenant: tenantId, expiresAt: Date.now() + this.tokenLifetimeSeconds * 1000, audience });
    return { status: 200, body: { token_type: 'Bearer', expires_in: this.tokenLifetimeSeconds, ext_expires_in: this.tokenLifetimeSeconds, access_token: accessToken } };
  }

  /** The admin's consent page, answered at once with the redirect Microsoft would send after the admin's click. */
  private adminConsent(tenantSegment: string, url: URL): Reply {
    const redirect = url.searchParams.get('redirect_uri');
    if (url.searchParams.get('client_id') !== this.clientId || !redirect) {
      return { status: 400, headers: { 'content-type': 'text/html' }, body: 'AADSTS700016: Application not found' };
    }
    const target = new URL(redirect);
    const state = url.searchParams.get('state');
    if (this.consentAnswer === 'accept') {
      // `organizations`: the admin's own tenant; the fake takes the first tenant not yet consented, or the one named.
      const tenant = this.tenants.get(tenantSegment) ?? [...this.tenants.values()].find((candidate) => !candidate.consented) ?? [...this.tenants.values()][0]!;
      tenant.consented = true;
      target.searchParams.set('tenant', tenant.id);
      target.searchParams.set('admin_consent', 'True');
    } else {
      target.searchParams.set('error', this.consentAnswer.error);
      target.searchParams.set('error_description', this.consentAnswer.description);
    }
    if (state !== null) {
      target.searchParams.set('state', state);
    }
    return { status: 302, headers: { location: target.toString() } };
  }

  /** Marks a tenant consented without going through the redirect (test setup). */
  consent(tenantId: string): void {
    this.tenant(tenantId).consented = true;
  }

  private directory(tenant: TenantState, route: string, url: URL): Reply {
    const members = /^\/groups\/([^/]+)\/members$/.exec(route);
    if (members) {
      const group = tenant.groups.get(members[1]!);
      if (!group) {
        return graphError(404, 'Request_ResourceNotFound', `Resource '${members[1]}' does not exist or one of its queried reference-property objects are not present.`);
      }
      const items = [...group.members].filter((id) => tenant.users.has(id)).map((id) => ({ '@odata.type': '#microsoft.graph.user', ...this.userView(tenant.users.get(id)!) }));
      return this.page(items, url, null);
    }
    const kind = route.startsWith('/users') ? 'user' : 'group';
    const delta = route.endsWith('/delta');
    if (!delta) {
      const all = kind === 'user' ? [...tenant.users.values()].map((user) => this.userView(user)) : [...tenant.groups.values()].map((group) => this.groupView(group, false));
      return this.page(all, url, null);
    }
    // Delta: `$deltatoken=<version>` (opaque to clients) returns what changed after that version; removed objects come
    // as `{ id, "@removed": { "reason": "changed" | "deleted" } }` (delta-query-overview.md).
    const since = url.searchParams.has('$deltatoken') ? Number(url.searchParams.get('$deltatoken')) : null;
    let items: unknown[];
    if (since === null) {
      items = kind === 'user' ? [...tenant.users.values()].map((user) => this.userView(user)) : [...tenant.groups.values()].map((group) => this.groupView(group, true));
    } else {
      const changed = [...new Set(tenant.changes.filter((change) => change.version > since && change.kind === kind).map((change) => change.id))];
      items = changed.map((id) => {
        const current = kind === 'user' ? tenant.users.get(id) : tenant.groups.get(id);
        if (!current) {
          return { id, '@removed': { reason: 'deleted' } };
        }
        return kind === 'user' ? this.userView(current as FakeUser) : this.groupView(current as FakeGroup, true);
      });
    }
    return this.page(items, url, `${this.baseUrl}/v1.0${route}?$deltatoken=${tenant.version}`);
  }

  private userView(user: FakeUser) {
    return { id: user.id, userPrincipalName: user.userPrincipalName, mail: user.mail, displayName: user.displayName, proxyAddresses: user.proxyAddresses, accountEnabled: user.accountEnabled };
  }

  private groupView(group: FakeGroup, withMembers: boolean) {
    // groups/delta with $select=members returns `members@delta` (the fake always sends the full current list).
    return { id: group.id, displayName: group.displayName, mail: group.mail, ...(withMembers ? { 'members@delta': [...group.members].map((id) => ({ '@odata.type': '#microsoft.graph.user', id })) } : {}) };
  }

  /** Pages a list with `$skiptoken`; the last page carries the deltaLink, if any. */
  private page(items: unknown[], url: URL, deltaLink: string | null): Reply {
    const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
    const top = Math.min(Number(url.searchParams.get('$top') ?? this.pageSize), 999);
    const value = items.slice(skip, skip + top);
    const body: Record<string, unknown> = { '@odata.context': `${this.baseUrl}/v1.0/$metadata`, value };
    if (skip + top < items.length) {
      const next = new URL(url.toString());
      next.searchParams.set('$skiptoken', String(skip + top));
      body['@odata.nextLink'] = next.toString();
    } else if (deltaLink) {
      body['@odata.deltaLink'] = deltaLink;
    }
    return { status: 200, body };
  }

  private mailbox(tenant: TenantState, addressed: string, collection: string, rest: string, method: string, url: URL, body: unknown): Reply {
    const user = [...tenant.users.values()].find((candidate) => candidate.id.toLowerCase() === addressed || candidate.userPrincipalName.toLowerCase() === addressed);
    const mailbox = user ? tenant.mailboxes.get(user.id) : undefined;
    if (!user || !mailbox) {
      return graphError(404, 'ErrorInvalidUser', `The requested user '${addressed}' is invalid.`);
    }
    if (collection === 'mailFolders') {
      const name = decodeURIComponent(rest.slice(1)).toLowerCase();
      const id = mailbox.folders[name] ?? Object.values(mailbox.folders).find((folder) => folder === rest.slice(1));
      return id ? { status: 200, body: { id, displayName: name } } : graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    }
    if (rest === '' && method === 'GET') {
      const filter = url.searchParams.get('$filter');
      let messages = [...mailbox.messages.values()];
      if (filter) {
        // Only `internetMessageId eq '<literal>'` is implemented, with OData quote doubling.
        const match = /^internetMessageId eq '((?:[^']|'')*)'$/.exec(filter);
        if (!match) {
          return graphError(400, 'ErrorInvalidUrlQueryFilter', 'The query filter contains one or more invalid nodes.');
        }
        const wanted = match[1]!.replace(/''/g, "'");
        messages = messages.filter((message) => message.internetMessageId === wanted);
      }
      // `$select=internetMessageHeaders,receivedDateTime` adds those (Graph returns the headers only when selected).
      const selected = (url.searchParams.get('$select') ?? '').split(',');
      return this.page(
        messages.map((message) => ({
          id: message.id,
          parentFolderId: message.parentFolderId,
          subject: message.subject,
          internetMessageId: message.internetMessageId,
          ...(selected.includes('receivedDateTime') ? { receivedDateTime: message.receivedDateTime ?? null } : {}),
          ...(selected.includes('internetMessageHeaders') ? { internetMessageHeaders: message.internetMessageHeaders ?? [] } : {}),
        })),
        url,
        null,
      );
    }
    const action = /^\/([^/]+)\/(move|permanentDelete)$/.exec(rest);
    if (action && method === 'POST') {
      const message = mailbox.messages.get(decodeURIComponent(action[1]!));
      if (!message) {
        return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      }
      if (action[2] === 'permanentDelete') {
        mailbox.messages.delete(message.id);
        return { status: 204 };
      }
      const destination = String((body as { destinationId?: unknown } | null)?.destinationId ?? '').toLowerCase();
      const folderId = mailbox.folders[destination] ?? Object.values(mailbox.folders).find((folder) => folder.toLowerCase() === destination);
      if (!folderId) {
        return graphError(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
      }
      // A moved message gets a new id (message-move.md) unless ImmutableId is asked for.
      mailbox.messages.delete(message.id);
      const moved = { ...message, id: `AAMkMsg${randomBytes(12).toString('base64url')}`, parentFolderId: folderId };
      mailbox.messages.set(moved.id, moved);
      return { status: 201, body: { id: moved.id, parentFolderId: folderId, internetMessageId: moved.internetMessageId, subject: moved.subject } };
    }
    return graphError(405, 'BadRequest', 'Unsupported request.');
  }

  private async batch(body: { requests?: unknown[] } | null, headers: Record<string, string | undefined>): Promise<Reply> {
    const requests = Array.isArray(body?.requests) ? (body!.requests as Array<{ id?: string; method?: string; url?: string; body?: unknown; headers?: Record<string, string> }>) : null;
    if (!requests) {
      return graphError(400, 'BadRequest', 'Invalid batch payload format.');
    }
    if (requests.length > 20) {
      return graphError(400, 'BadRequest', 'Exceeded maximum number of requests. Maximum number of requests is 20.');
    }
    const responses: Array<{ id: string; status: number; headers: Record<string, string>; body?: unknown }> = [];
    for (const inner of requests) {
      const innerType = Object.entries(inner.headers ?? {}).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
      if (inner.body !== undefined && !innerType) {
        // json-batching.md: "the headers object must contain a value for Content-Type" when a body is given.
        responses.push({ id: String(inner.id), status: 400, headers: { 'content-type': 'application/json' }, body: graphError(400, 'BadRequest', 'Content-Type header is required with a body.').body });
        continue;
      }
      const innerUrl = new URL(`${this.baseUrl}/v1.0${inner.url?.startsWith('/') ? '' : '/'}${inner.url ?? ''}`);
      const reply = (await this.handle(
        inner.method ?? 'GET',
        innerUrl,
        { authorization: headers.authorization, 'content-type': inner.body !== undefined ? 'application/json' : undefined },
        inner.body !== undefined ? JSON.stringify(inner.body) : '',
        true,
      ))!;
      responses.push({ id: String(inner.id), status: reply.status, headers: { 'content-type': 'application/json', ...reply.headers }, body: reply.body });
    }
    return { status: 200, body: { responses } };
  }
}
