import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@mailwarden/observability';
import {
  ThirdPartyAlertRepository,
  type MalformedAlertInput,
  type MimecastConnection,
  type MimecastLogType,
  type PollRunCounts,
  type Prisma,
  type ThirdPartyAlertInput,
} from '@mailwarden/db';
import { CredentialsCipher } from './credentials.cipher';
import { MimecastClient, MimecastTokenCache, type MimecastClientOptions } from './mimecast.client';
import { MimecastError } from './mimecast.errors';
import { MimecastMetrics } from './mimecast-metrics';
import { isCleanMimecastLog, toThirdPartyAlert } from './mimecast-alert.normalizer';
import { validateMimecastLog } from './mimecast-log.validator';
import { MIMECAST_OPTIONS, type MimecastModuleOptions } from './mimecast.options';
import { MIMECAST_LOG_KINDS, MimecastLogKind, type MimecastConnectionSettings } from './mimecast.types';

export const LOG_TYPE_OF_KIND: Record<MimecastLogKind, MimecastLogType> = {
  [MimecastLogKind.Attachment]: 'ATTACHMENT',
  [MimecastLogKind.Impersonation]: 'IMPERSONATION',
  [MimecastLogKind.Url]: 'URL',
};

export enum MimecastPollStatus {
  Succeeded = 'SUCCEEDED',
  Failed = 'FAILED',
  /** Not polled: connection missing or disabled, or another poll holds it. */
  Skipped = 'SKIPPED',
}

export interface MimecastPollResult {
  status: MimecastPollStatus;
  runId: string | null;
  counts: PollRunCounts;
  errors: string[];
}

const emptyCounts = (): PollRunCounts => ({ pages: 0, received: 0, stored: 0, duplicates: 0, malformed: 0, clean: 0, unmapped: 0 });

/** The settings of a stored connection, credentials decrypted. */
export function connectionSettings(connection: MimecastConnection, cipher: CredentialsCipher): MimecastConnectionSettings {
  const credentials = cipher.decrypt<never>(connection.encryptedCredentials, connection.accountId);
  return { apiVersion: connection.apiVersion, baseUrl: connection.baseUrl, credentials } as MimecastConnectionSettings;
}

/**
 * Runs one poll of one connection: for each TTP log kind, fetch the pages of the cursor's window and commit
 * each page's alerts together with the cursor advance, so a crash at any point resumes on the first
 * uncommitted page. Windows are closed (`to` fixed before the first page), and Mimecast's `from`/`to`
 * bounds are inclusive, so the boundary second is asked twice: deduplication absorbs it.
 */
@Injectable()
export class MimecastPollerService {
  private readonly logger = new Logger(MimecastPollerService.name);
  private readonly cipher: CredentialsCipher;
  private readonly tokenCache = new MimecastTokenCache();
  private readonly metrics: MimecastMetrics;

  constructor(
    private readonly repository: ThirdPartyAlertRepository,
    @Inject(MIMECAST_OPTIONS) private readonly options: MimecastModuleOptions,
    @Optional() @Inject(METRICS_REGISTRY) registry?: Registry,
  ) {
    this.cipher = new CredentialsCipher(options.secretsKey);
    this.metrics = new MimecastMetrics(registry);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private leaseMs(): number {
    return this.options.leaseMs ?? 15 * 60_000;
  }

  clientFor(settings: MimecastConnectionSettings): MimecastClient {
    const clientOptions: MimecastClientOptions = { ...this.options.client, now: () => this.now(), tokenCache: this.tokenCache };
    return new MimecastClient(settings, clientOptions);
  }

  async poll(connectionId: string): Promise<MimecastPollResult> {
    const connection = await this.repository.findConnection(connectionId);
    if (!connection || !connection.enabled) {
      this.metrics.pollFinished(MimecastPollStatus.Skipped, emptyCounts());
      return { status: MimecastPollStatus.Skipped, runId: null, counts: emptyCounts(), errors: [] };
    }
    const startedAt = this.now();
    if (!(await this.repository.acquireLease(connection.id, startedAt, new Date(startedAt.getTime() + this.leaseMs())))) {
      this.logger.log({ event: 'mimecast.poll.skipped', connectionId, reason: 'lease held' });
      this.metrics.pollFinished(MimecastPollStatus.Skipped, emptyCounts());
      return { status: MimecastPollStatus.Skipped, runId: null, counts: emptyCounts(), errors: [] };
    }

    const interrupted = await this.repository.failInterruptedRuns(connection.id, startedAt);
    if (interrupted > 0) {
      this.logger.warn({ event: 'mimecast.poll.interrupted_runs', connectionId, count: interrupted });
    }
    const run = await this.repository.startRun(connection.id, startedAt);
    const counts = emptyCounts();
    const errors: string[] = [];
    try {
      const client = this.clientFor(connectionSettings(connection, this.cipher));
      // One kind failing (e.g. a tenant without Attachment Protect answers fail[]) must not starve the others.
      for (const kind of MIMECAST_LOG_KINDS) {
        try {
          await this.pollKind(connection, client, kind, counts);
        } catch (error) {
          errors.push(`${kind}: ${(error as Error).message}`);
          this.logger.warn({
            event: 'mimecast.poll.kind_failed',
            connectionId,
            kind,
            code: error instanceof MimecastError ? error.code : 'internal',
            message: (error as Error).message,
          });
        }
      }
    } catch (error) {
      errors.push((error as Error).message);
    }

    const status = errors.length > 0 ? MimecastPollStatus.Failed : MimecastPollStatus.Succeeded;
    const finishedAt = this.now();
    await this.repository.finishRun(run.id, status, counts, finishedAt, errors.length > 0 ? errors.join('\n') : null);
    await this.repository.releaseLease(connection.id, finishedAt);
    this.metrics.pollFinished(status, counts);
    this.logger.log({ event: 'mimecast.poll.finished', connectionId, status, ...counts });
    return { status, runId: run.id, counts, errors };
  }

  private async pollKind(
    connection: MimecastConnection,
    client: MimecastClient,
    kind: MimecastLogKind,
    counts: PollRunCounts,
  ): Promise<void> {
    const logType = LOG_TYPE_OF_KIND[kind];
    const now = this.now();
    const initialStart = new Date(now.getTime() - (this.options.initialLookbackMs ?? 24 * 3600_000));
    let cursor = await this.repository.ensureCursor(connection.id, logType, wholeSeconds(initialStart));
    if (!cursor.windowEnd) {
      // Mimecast indexes logs with some delay: leave the most recent minutes to the next window.
      const end = wholeSeconds(new Date(now.getTime() - (this.options.settleMs ?? 120_000)));
      if (end <= cursor.windowStart) {
        return;
      }
      cursor = await this.repository.openWindow(connection.id, logType, end);
    }
    const windowStart = cursor.windowStart;
    const windowEnd = cursor.windowEnd!;
    let pageToken = cursor.pageToken;
    const maxPages = this.options.maxPagesPerPoll ?? 100;

    for (let pages = 0; pages < maxPages; pages++) {
      const page = await client.getLogs(kind, { from: windowStart, to: windowEnd, pageSize: this.options.pageSize ?? 100, pageToken });
      counts.pages++;
      const alerts: ThirdPartyAlertInput[] = [];
      const malformed: MalformedAlertInput[] = [];
      for (const record of page.records) {
        counts.received++;
        const checked = validateMimecastLog(kind, record);
        if (!checked.ok) {
          counts.malformed++;
          malformed.push({ source: 'MIMECAST', logType: kind, reason: checked.reason, raw: asJson(record) });
          continue;
        }
        if (isCleanMimecastLog(kind, checked.record)) {
          counts.clean++;
          continue;
        }
        const alert = toThirdPartyAlert(kind, checked.record);
        if (!alert.mitreId) {
          counts.unmapped++;
        }
        alerts.push(alert);
      }
      // Mimecast may hand out a `next` token with an empty page at the end of a window: an empty page ends it.
      const isLastPage = !page.next || page.records.length === 0;
      const { stored, duplicates } = await this.repository.commitPage({
        connectionId: connection.id,
        accountId: connection.accountId,
        logType,
        alerts,
        malformed,
        cursor: isLastPage
          ? { windowStart: windowEnd, windowEnd: null, pageToken: null }
          : { windowStart, windowEnd, pageToken: page.next },
      });
      counts.stored += stored;
      counts.duplicates += duplicates;
      await this.repository.extendLease(connection.id, new Date(this.now().getTime() + this.leaseMs()));
      if (isLastPage) {
        return;
      }
      pageToken = page.next;
    }
  }
}

function wholeSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

// A record that failed validation can be any JSON value; a JSON null must be stored as a value, not SQL NULL.
function asJson(value: unknown): Prisma.InputJsonValue {
  return (value === null || value === undefined ? { value: null } : value) as Prisma.InputJsonValue;
}
