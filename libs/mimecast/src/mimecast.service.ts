import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  ThirdPartyAlertRepository,
  type MalformedAlert,
  type MimecastConnection,
  type MimecastPollRun,
  type ThirdPartyAlert,
  type ThirdPartyAlertFilters,
} from '@mailwarden/db';
import { CredentialsCipher } from './credentials.cipher';
import { MimecastError, MimecastErrorCode } from './mimecast.errors';
import { MimecastPollerService } from './mimecast-poller.service';
import { MimecastPollScheduler } from './mimecast-poll.processor';
import { MIMECAST_OPTIONS, type MimecastModuleOptions } from './mimecast.options';
import { MimecastLogKind, type MimecastConnectionSettings } from './mimecast.types';

export type ConfigureMimecastConnectionInput = MimecastConnectionSettings & {
  enabled?: boolean;
  pollIntervalSeconds?: number;
};

/** A connection as admins see it: never the credentials. */
export interface MimecastConnectionView {
  id: string;
  accountId: string;
  apiVersion: 'V1' | 'V2';
  baseUrl: string;
  enabled: boolean;
  pollIntervalSeconds: number;
  lastPolledAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ListAlertsQuery extends Omit<ThirdPartyAlertFilters, 'alertType'> {
  /** Alert type, e.g. `Impersonation Attempt`. */
  type?: string;
}

export interface AlertPage {
  items: ThirdPartyAlert[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export type TestConnectionResult =
  | { ok: true }
  | { ok: false; code: MimecastErrorCode | 'invalid-settings' | 'not-configured' | 'internal'; message: string };

export const MIN_POLL_INTERVAL_SECONDS = 60;
const MAX_PAGE_SIZE = 200;

export function encodeAlertCursor(alert: Pick<ThirdPartyAlert, 'occurredAt' | 'id'>): string {
  return Buffer.from(`${alert.occurredAt.toISOString()}|${alert.id}`, 'utf8').toString('base64url');
}

export function decodeAlertCursor(cursor: string): { occurredAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const occurredAt = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(occurredAt.getTime())) {
    throw new RangeError('invalid cursor');
  }
  return { occurredAt, id };
}

function toView(connection: MimecastConnection): MimecastConnectionView {
  return {
    id: connection.id,
    accountId: connection.accountId,
    apiVersion: connection.apiVersion,
    baseUrl: connection.baseUrl,
    enabled: connection.enabled,
    pollIntervalSeconds: connection.pollIntervalSeconds,
    lastPolledAt: connection.lastPolledAt,
    createdAt: connection.createdAt,
    updatedAt: connection.updatedAt,
  };
}

function assertSettings(input: MimecastConnectionSettings & { pollIntervalSeconds?: number }, allowHttp: boolean): void {
  let url: URL;
  try {
    url = new URL(input.baseUrl);
  } catch {
    throw new RangeError('baseUrl must be a URL');
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) {
    throw new RangeError(allowHttp ? 'baseUrl must be an http(s) URL' : 'baseUrl must be an https URL');
  }
  if (input.apiVersion !== 'V1' && input.apiVersion !== 'V2') {
    throw new RangeError('apiVersion must be V1 or V2');
  }
  const required = input.apiVersion === 'V2' ? ['clientId', 'clientSecret'] : ['appId', 'appKey', 'accessKey', 'secretKey'];
  for (const field of required) {
    const value = (input.credentials as unknown as Record<string, unknown>)[field];
    if (typeof value !== 'string' || value.trim() === '') {
      throw new RangeError(`credentials.${field} is required for API ${input.apiVersion === 'V2' ? '2.0' : '1.0'}`);
    }
  }
  if (input.pollIntervalSeconds !== undefined && (!Number.isInteger(input.pollIntervalSeconds) || input.pollIntervalSeconds < MIN_POLL_INTERVAL_SECONDS)) {
    throw new RangeError(`pollIntervalSeconds must be an integer of at least ${MIN_POLL_INTERVAL_SECONDS}`);
  }
}

/**
 * What the admin API calls for Mimecast: configure and test a connection, read alerts, runs and malformed
 * records. Bad input is a RangeError (the admin API maps it to 400).
 */
@Injectable()
export class MimecastService {
  private readonly cipher: CredentialsCipher;

  constructor(
    private readonly repository: ThirdPartyAlertRepository,
    private readonly poller: MimecastPollerService,
    @Inject(MIMECAST_OPTIONS) private readonly options: MimecastModuleOptions,
    @Optional() private readonly scheduler?: MimecastPollScheduler,
  ) {
    this.cipher = new CredentialsCipher(options.secretsKey);
  }

  /**
   * Stores (or replaces) the account's connection with its credentials encrypted, and (re)schedules its
   * poll. A change of API version or base URL starts a new cursor history.
   */
  async configureConnection(accountId: string, input: ConfigureMimecastConnectionInput): Promise<MimecastConnectionView> {
    assertSettings(input, this.options.allowHttpBaseUrl === true);
    const existing = await this.repository.findConnectionByAccount(accountId);
    const fields = {
      accountId,
      apiVersion: input.apiVersion,
      baseUrl: input.baseUrl.replace(/\/+$/, ''),
      encryptedCredentials: this.cipher.encrypt(input.credentials, accountId),
      enabled: input.enabled ?? true,
      pollIntervalSeconds: input.pollIntervalSeconds ?? existing?.pollIntervalSeconds ?? 300,
    };
    const isNewTenant = existing && (existing.apiVersion !== fields.apiVersion || existing.baseUrl !== fields.baseUrl);
    const connection = isNewTenant ? await this.repository.replaceConnection(fields) : await this.repository.upsertConnection(fields);
    await this.scheduler?.schedule(connection);
    return toView(connection);
  }

  /** Stops polling and forgets the connection (credentials, cursors, runs); the alerts already stored stay. */
  async removeConnection(accountId: string): Promise<boolean> {
    await this.scheduler?.unschedule(accountId);
    return this.repository.deleteConnection(accountId);
  }

  /** Re-creates the schedule of every enabled connection (at app start, e.g. after Redis lost its keys). */
  async syncSchedules(): Promise<number> {
    if (!this.scheduler) {
      return 0;
    }
    const connections = await this.repository.listEnabledConnections();
    for (const connection of connections) {
      await this.scheduler.schedule(connection);
    }
    return connections.length;
  }

  async getConnection(accountId: string): Promise<MimecastConnectionView | null> {
    const connection = await this.repository.findConnectionByAccount(accountId);
    return connection ? toView(connection) : null;
  }

  /** Checks settings (before saving) or, given only an account id, the stored connection, with one small call. */
  async testConnection(target: string | MimecastConnectionSettings): Promise<TestConnectionResult> {
    let settings: MimecastConnectionSettings;
    if (typeof target === 'string') {
      const connection = await this.repository.findConnectionByAccount(target);
      if (!connection) {
        return { ok: false, code: 'not-configured', message: 'no Mimecast connection is configured for this account' };
      }
      settings = {
        apiVersion: connection.apiVersion,
        baseUrl: connection.baseUrl,
        credentials: this.cipher.decrypt(connection.encryptedCredentials, connection.accountId),
      } as MimecastConnectionSettings;
    } else {
      try {
        assertSettings(target, this.options.allowHttpBaseUrl === true);
      } catch (error) {
        return { ok: false, code: 'invalid-settings', message: (error as Error).message };
      }
      settings = target;
    }
    const client = this.poller.clientFor(settings);
    const to = new Date();
    try {
      await client.getLogs(MimecastLogKind.Url, { from: new Date(to.getTime() - 3600_000), to, pageSize: 1 });
      return { ok: true };
    } catch (error) {
      if (error instanceof MimecastError) {
        return { ok: false, code: error.code, message: error.message };
      }
      return { ok: false, code: 'internal', message: (error as Error).message };
    }
  }

  async listAlerts(accountId: string, query: ListAlertsQuery = {}, page: { cursor?: string; limit?: number } = {}): Promise<AlertPage> {
    const limit = Math.min(Math.max(page.limit ?? 50, 1), MAX_PAGE_SIZE);
    const { type, ...rest } = query;
    const rows = await this.repository.listAlerts(
      accountId,
      { ...rest, alertType: type },
      { after: page.cursor ? decodeAlertCursor(page.cursor) : undefined, limit: limit + 1 },
    );
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? encodeAlertCursor(items[items.length - 1]!) : null };
  }

  async listPollRuns(accountId: string, limit = 50): Promise<MimecastPollRun[]> {
    const connection = await this.repository.findConnectionByAccount(accountId);
    return connection ? this.repository.listRuns(connection.id, limit) : [];
  }

  async listMalformedAlerts(accountId: string, limit = 50): Promise<MalformedAlert[]> {
    const connection = await this.repository.findConnectionByAccount(accountId);
    return connection ? this.repository.listMalformed(connection.id, limit) : [];
  }
}
