import { Inject, Injectable } from '@nestjs/common';
import { Microsoft365Repository, type AuditActor, type M365Connection } from '@mailwarden/db';
import { adminConsentUrl, ConsentStateSigner } from './admin-consent';
import { AppTokenProvider } from './app-token.provider';
import { ExchangeOnlineClient, type ExchangeOnlineClientOptions } from './exchange-online.client';
import { GraphClient } from './graph.client';
import { MailboxLimiter } from './mailbox-limiter';
import { ConsentStateError, GraphError, TokenError } from './microsoft365.errors';
import { MICROSOFT365_OPTIONS, type Microsoft365ModuleOptions } from './microsoft365.options';
import { Microsoft365Queues } from './microsoft365-queues';
import { GRAPH_PERMISSIONS, type Microsoft365AppSettings } from './microsoft365.settings';

/** Why a Microsoft 365 operation cannot start; the admin API maps each to a problem code. */
export class Microsoft365Unavailable extends Error {
  constructor(
    readonly reason: 'app-not-configured' | 'not-connected' | 'tenant-connected-elsewhere',
    message: string,
  ) {
    super(message);
    this.name = 'Microsoft365Unavailable';
  }
}

export type ConsentOutcome =
  | { status: 'connected'; accountId: string; connection: M365Connection }
  /** Microsoft sent the admin back with `error` / `error_description`: shown as they came. */
  | { status: 'refused'; accountId: string; error: string; errorDescription: string };

export interface ConnectionCheck {
  ok: boolean;
  /** The step that failed: `token` or the Graph permission whose call was refused. */
  failedStep: 'token' | (typeof GRAPH_PERMISSIONS)[keyof typeof GRAPH_PERMISSIONS] | null;
  missingPermission: string | null;
  code: string | null;
  message: string | null;
}

/**
 * The Microsoft 365 connection of accounts: consent URL and redirect, connection check and removal, and the Graph
 * client of a connected tenant (one token cache and one per-mailbox limiter for the whole process).
 */
@Injectable()
export class Microsoft365Service {
  private readonly tokens: AppTokenProvider | null;
  private readonly signer: ConsentStateSigner;
  readonly limiter = new MailboxLimiter();

  constructor(
    @Inject(MICROSOFT365_OPTIONS) private readonly options: Microsoft365ModuleOptions,
    private readonly repository: Microsoft365Repository,
    private readonly queues: Microsoft365Queues,
  ) {
    this.tokens = options.app ? new AppTokenProvider(options.app) : null;
    this.signer = new ConsentStateSigner(options.secretsKey);
  }

  get isConfigured(): boolean {
    return this.options.app !== null;
  }

  consentUrl(accountId: string, actor: AuditActor, redirectUri: string): { url: string; expiresAt: Date } {
    const app = this.app();
    const ttl = this.options.consentTtlMs ?? 60 * 60 * 1000;
    const state = this.signer.sign({ accountId, requestedBy: actor.actor, requestedByKeyId: actor.actorKeyId }, ttl);
    return { url: adminConsentUrl({ loginBaseUrl: app.loginBaseUrl, clientId: app.clientId, redirectUri, state }), expiresAt: new Date(Date.now() + ttl) };
  }

  /** Checks the redirect's state first (ConsentStateError), then records the tenant or the refusal. */
  async completeConsent(query: { state?: string; tenant?: string; admin_consent?: string; error?: string; error_description?: string }): Promise<ConsentOutcome> {
    this.app();
    const state = this.signer.verify(query.state);
    const actor: AuditActor = { actor: state.requestedBy, actorKeyId: state.requestedByKeyId };
    if (query.error) {
      return { status: 'refused', accountId: state.accountId, error: query.error, errorDescription: query.error_description ?? '' };
    }
    if (!query.tenant || query.admin_consent?.toLowerCase() !== 'true') {
      throw new ConsentStateError('the consent answer names no tenant');
    }
    // The redirect is only the browser's word: the tenant must give Mailwarden's app a token.
    const proof = await this.tokenFor(query.tenant);
    if (proof) {
      return { status: 'refused', accountId: state.accountId, error: proof.error, errorDescription: proof.description };
    }
    const connection = await this.repository.connect(state.accountId, query.tenant, { nonce: state.nonce, consentedBy: actor.actor }, actor);
    if (connection === 'state-used') {
      throw new ConsentStateError('this consent link was already used: ask for a new one');
    }
    if (connection === 'connected-elsewhere') {
      throw new Microsoft365Unavailable('tenant-connected-elsewhere', 'this Microsoft 365 tenant is already connected to another account');
    }
    await this.queues.scheduleSync(state.accountId, this.options.directorySyncMinutes ?? 360);
    return { status: 'connected', accountId: state.accountId, connection };
  }

  /** Null when a token for the tenant was issued; else the identity platform's refusal. */
  private async tokenFor(tenantId: string): Promise<TokenError | null> {
    const retries = this.options.consentTokenRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        this.tokens!.invalidate(tenantId);
        await this.tokens!.token(tenantId);
        return null;
      } catch (error) {
        if (!(error instanceof TokenError)) {
          throw error;
        }
        if (attempt >= retries) {
          return error;
        }
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  }

  getConnection(accountId: string): Promise<M365Connection | null> {
    return this.repository.findConnection(accountId);
  }

  async disconnect(accountId: string, actor: AuditActor): Promise<M365Connection | null> {
    const removed = await this.repository.disconnect(accountId, actor);
    if (removed) {
      await this.queues.unscheduleSync(accountId);
    }
    return removed;
  }

  /**
   * A token, then one small Graph call per permission Mailwarden needs; the first refusal names the permission.
   * (`Mail.ReadWrite` is checked with a read: Graph has no side-effect-free write to probe it.)
   */
  async check(accountId: string): Promise<ConnectionCheck> {
    const connection = await this.requireConnection(accountId);
    const graph = this.graph(connection.tenantId);
    try {
      await this.tokens!.token(connection.tenantId);
    } catch (error) {
      if (error instanceof TokenError) {
        return { ok: false, failedStep: 'token', missingPermission: null, code: error.error, message: error.description };
      }
      throw error;
    }
    const steps: Array<[string, () => Promise<unknown>]> = [
      [GRAPH_PERMISSIONS.users, () => graph.get<{ value: Array<{ id: string }> }>('/users?$top=1&$select=id')],
      [GRAPH_PERMISSIONS.groups, () => graph.get('/groups?$top=1&$select=id')],
    ];
    let firstUser: string | null = null;
    for (const [permission, call] of steps) {
      try {
        const body = (await call()) as { value?: Array<{ id: string }> };
        firstUser ??= body.value?.[0]?.id ?? null;
      } catch (error) {
        return this.refused(permission, error);
      }
    }
    if (firstUser) {
      try {
        await graph.get(`/users/${encodeURIComponent(firstUser)}/mailFolders/inbox?$select=id`, { mailbox: firstUser });
      } catch (error) {
        return this.refused(GRAPH_PERMISSIONS.mail, error);
      }
    }
    return { ok: true, failedStep: null, missingPermission: null, code: null, message: null };
  }

  async requireConnection(accountId: string): Promise<M365Connection> {
    this.app();
    const connection = await this.repository.findConnection(accountId);
    if (!connection) {
      throw new Microsoft365Unavailable('not-connected', 'this account has no Microsoft 365 connection: a tenant admin must grant consent first');
    }
    return connection;
  }

  graph(tenantId: string, signal?: AbortSignal): GraphClient {
    const app = this.app();
    return new GraphClient(this.tokens!, tenantId, app.graphBaseUrl, { ...this.options.graph, limiter: this.limiter, signal });
  }

  /** The Exchange Online client of a connected tenant (InvokeCommand; permission Exchange.ManageAsApp). */
  exchange(tenantId: string, options: ExchangeOnlineClientOptions = {}): ExchangeOnlineClient {
    const app = this.app();
    const { maxRetries, maxRetryAfterMs, backoffBaseMs, timeoutMs, fetch, sleep } = this.options.graph ?? {};
    return new ExchangeOnlineClient(this.tokens!, tenantId, app.exchangeBaseUrl, { maxRetries, maxRetryAfterMs, backoffBaseMs, timeoutMs, fetch, sleep, ...options });
  }

  private refused(permission: string, error: unknown): ConnectionCheck {
    if (error instanceof GraphError) {
      return {
        ok: false,
        failedStep: permission as ConnectionCheck['failedStep'],
        missingPermission: error.isAccessDenied ? permission : null,
        code: error.code,
        message: error.message,
      };
    }
    if (error instanceof TokenError) {
      return { ok: false, failedStep: 'token', missingPermission: null, code: error.error, message: error.description };
    }
    throw error;
  }

  private app(): Microsoft365AppSettings {
    if (!this.options.app) {
      throw new Microsoft365Unavailable('app-not-configured', 'no Microsoft app is configured (M365_CLIENT_ID): the operator must register one first');
    }
    return this.options.app;
  }
}
