import { randomUUID } from 'node:crypto';
import type { ExportDestination, ExportDestinationKind, ExportRepository, DestinationOwner, Message, Prisma, Verdict } from '@mailwarden/db';
import { parseDestinationCredentials, parseDestinationSettings, DestinationSettingsError, type DestinationSettings } from './destination-settings';
import type { ExportScheduler } from './export-scheduler';
import type { ExportSinkFactory } from './export-sinks';
import { toEmailActivity, type OcsfEvent } from './ocsf/ocsf-mappers';
import { stableUid } from './ocsf/ocsf.constants';

export interface ExportDestinationWrite {
  name?: string;
  kind?: ExportDestinationKind;
  settings?: unknown;
  credentials?: unknown;
  classUids?: number[];
  minSeverityId?: number;
  actionableOnly?: boolean;
  enabled?: boolean;
}

/** A destination as admins see it: settings and status, never the credentials. */
export interface ExportDestinationView {
  id: string;
  name: string;
  kind: ExportDestinationKind;
  accountId: string | null;
  partnerId: string | null;
  settings: DestinationSettings;
  hasCredentials: boolean;
  classUids: number[];
  minSeverityId: number;
  actionableOnly: boolean;
  enabled: boolean;
  status: {
    lagEvents: number;
    oldestPendingAt: Date | null;
    lastSuccessAt: Date | null;
    lastError: string | null;
    lastErrorAt: Date | null;
    consecutiveFailures: number;
    nextAttemptAt: Date | null;
    eventsSent: number;
    eventsFiltered: number;
    batchesSent: number;
  };
  createdAt: Date;
  updatedAt: Date;
}

const CLASS_UIDS = new Set([4009, 2004, 7001]);

function checkFilters(write: ExportDestinationWrite): void {
  if (write.classUids !== undefined && (!Array.isArray(write.classUids) || write.classUids.some((uid) => !CLASS_UIDS.has(uid)))) {
    throw new DestinationSettingsError('classUids', 'may hold only 4009 (Email Activity), 2004 (Detection Finding) and 7001 (Remediation Activity)');
  }
  if (write.minSeverityId !== undefined && (!Number.isInteger(write.minSeverityId) || write.minSeverityId < 0 || write.minSeverityId > 6)) {
    throw new DestinationSettingsError('minSeverityId', 'must be an OCSF severity_id from 0 to 6');
  }
}

/**
 * Destinations for the admin API: validated settings, write-only encrypted credentials, the BullMQ schedule kept
 * in step, status with lag, and the "send test event" action.
 */
export class ExportDestinationsService {
  constructor(
    private readonly repository: ExportRepository,
    private readonly sinks: ExportSinkFactory,
    private readonly exportRoot: string,
    private readonly scheduler?: ExportScheduler,
    private readonly productVersion = '0.1.0',
  ) {}

  list(owner: DestinationOwner): Promise<ExportDestinationView[]> {
    return this.repository.listDestinations(owner).then((rows) => Promise.all(rows.map((row) => this.view(row))));
  }

  /** The destination when it belongs to the owner; null otherwise (the caller answers 404 either way). */
  async find(owner: DestinationOwner, id: string): Promise<ExportDestination | null> {
    const destination = await this.repository.findDestination(id);
    const mine = destination && (owner.accountId ? destination.accountId === owner.accountId : destination.partnerId === owner.partnerId);
    return mine ? destination : null;
  }

  async create(owner: DestinationOwner, write: ExportDestinationWrite & { name: string; kind: ExportDestinationKind }): Promise<ExportDestinationView> {
    const settings = parseDestinationSettings(write.kind, write.settings, this.exportRoot);
    const credentials = parseDestinationCredentials(write.kind, write.credentials);
    checkFilters(write);
    const id = randomUUID();
    const created = await this.repository.createDestination({
      id,
      accountId: owner.accountId ?? null,
      partnerId: owner.partnerId ?? null,
      name: write.name,
      kind: write.kind,
      settings: settings as unknown as Prisma.InputJsonValue,
      encryptedCredentials: credentials ? this.sinks.encrypt(id, credentials) : null,
      classUids: write.classUids,
      minSeverityId: write.minSeverityId,
      actionableOnly: write.actionableOnly,
      enabled: write.enabled,
    });
    await this.scheduler?.schedule(created);
    return this.view(created);
  }

  /** Changes what is given; new settings replace the old ones whole, credentials only when given. */
  async update(existing: ExportDestination, write: ExportDestinationWrite): Promise<ExportDestinationView> {
    if (write.kind !== undefined && write.kind !== existing.kind) {
      throw new DestinationSettingsError('kind', 'cannot change; create a new destination');
    }
    checkFilters(write);
    const settings = write.settings !== undefined ? parseDestinationSettings(existing.kind, write.settings, this.exportRoot) : undefined;
    const credentials = write.credentials !== undefined ? parseDestinationCredentials(existing.kind, write.credentials) : undefined;
    const updated = await this.repository.updateDestination(existing.id, {
      name: write.name,
      settings: settings as unknown as Prisma.InputJsonValue | undefined,
      ...(credentials ? { encryptedCredentials: this.sinks.encrypt(existing.id, credentials) } : {}),
      classUids: write.classUids,
      minSeverityId: write.minSeverityId,
      actionableOnly: write.actionableOnly,
      enabled: write.enabled,
    });
    await this.scheduler?.schedule(updated);
    return this.view(updated);
  }

  async remove(existing: ExportDestination): Promise<ExportDestinationView> {
    const view = await this.view(existing);
    await this.scheduler?.unschedule(existing.id);
    await this.repository.deleteDestination(existing.id);
    return view;
  }

  /** Sends one synthetic Email Activity event (marked `unmapped.test`) through the destination's transport. */
  async sendTest(existing: ExportDestination): Promise<{ ok: boolean; error: string | null; eventUid: string }> {
    const event = this.testEvent(existing);
    const sink = this.sinks.build(existing);
    try {
      await sink.send([event]);
      return { ok: true, error: null, eventUid: event.metadata.uid };
    } catch (error) {
      return { ok: false, error: (error as Error).message, eventUid: event.metadata.uid };
    } finally {
      await sink.close();
    }
  }

  testEvent(destination: Pick<ExportDestination, 'id' | 'accountId' | 'partnerId'>): OcsfEvent {
    const now = new Date();
    const id = randomUUID();
    const message = {
      id,
      accountId: destination.accountId ?? destination.partnerId!,
      source: 'GATEWAY',
      direction: 'INBOUND',
      envelopeFrom: 'sender@example.com',
      envelopeTo: ['recipient@example.com'],
      headerFrom: 'sender@example.com',
      subject: 'Mailwarden test event',
      messageIdHeader: `<${id}@mailwarden.test>`,
      size: 0,
      clientIp: '192.0.2.1',
      helo: 'mail.example.com',
      receivedAt: now,
      rawMessageId: id,
      dedupKey: null,
      scanStatus: 'SCANNED',
      scannedAt: now,
      deliveryState: 'NOT_APPLICABLE',
      metadata: {},
    } as Message;
    const verdict = { id, messageId: id, recipient: 'recipient@example.com', checks: [], failedCheck: null, decidedAction: 'DELIVER', appliedAction: 'DELIVER', enforced: true, reasons: [], skippedReason: null, createdAt: now } as Verdict;
    const { event } = toEmailActivity({ message, verdicts: [verdict], raw: null }, { to: [], cc: [], replyTo: null, files: [], urls: [] }, this.productVersion);
    event.metadata = { ...event.metadata, uid: stableUid('test', destination.id, id), log_name: 'test' };
    event.message = 'Mailwarden test event';
    (event.unmapped as Record<string, unknown>).test = true;
    return event;
  }

  async view(row: ExportDestination): Promise<ExportDestinationView> {
    const lag = await this.repository.lag(row);
    return {
      id: row.id,
      name: row.name,
      kind: row.kind,
      accountId: row.accountId,
      partnerId: row.partnerId,
      settings: row.settings as unknown as DestinationSettings,
      hasCredentials: row.encryptedCredentials !== null,
      classUids: row.classUids,
      minSeverityId: row.minSeverityId,
      actionableOnly: row.actionableOnly,
      enabled: row.enabled,
      status: {
        lagEvents: lag.events,
        oldestPendingAt: lag.oldestAt,
        lastSuccessAt: row.lastSuccessAt,
        lastError: row.lastError,
        lastErrorAt: row.lastErrorAt,
        consecutiveFailures: row.consecutiveFailures,
        nextAttemptAt: row.nextAttemptAt,
        eventsSent: Number(row.eventsSent),
        eventsFiltered: Number(row.eventsFiltered),
        batchesSent: Number(row.batchesSent),
      },
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }
}
