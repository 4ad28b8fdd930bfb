import { Logger } from '@nestjs/common';
import { MAILFLOW_ALERT_TOPIC, REMEDIATION_FINISHED_TOPIC, THIRD_PARTY_ALERT_TOPIC, VERDICT_TOPIC, type ExportRepository, type OutboxRow } from '@mailwarden/db';
import { readMessageDetails } from './ocsf/message-details';
import { toAlertFinding, toEmailActivity, toMailflowAlertFinding, toMessageFindings, toRemediationActivity, type MailflowAlertPayload, type MappedEvent } from './ocsf/ocsf-mappers';

/** The events of one outbox row (an Email Activity and its findings, one alert's finding, or one remediation's activity). */
export interface RenderedRow {
  row: OutboxRow;
  events: MappedEvent[];
}

/**
 * Turns outbox rows into OCSF events. Rows are rendered once per process and kept in a small LRU, so several
 * destinations reading the same rows parse each message once. A row whose message or alert is gone (account
 * deleted) renders to nothing.
 */
export class EventRenderer {
  private readonly logger = new Logger(EventRenderer.name);
  private readonly cache = new Map<string, MappedEvent[]>();

  constructor(
    private readonly repository: Pick<ExportRepository, 'loadMessages' | 'loadAlerts' | 'loadRemediations'>,
    private readonly productVersion: string,
    private readonly cacheSize = 5000,
  ) {}

  async render(rows: readonly OutboxRow[]): Promise<RenderedRow[]> {
    const missing = rows.filter((row) => !this.cache.has(row.id.toString()));
    const payloadId = (row: OutboxRow, field: string) => String((row.payload as Record<string, unknown> | null)?.[field] ?? row.aggregateId);
    const [messages, alerts, remediations] = await Promise.all([
      this.repository.loadMessages(missing.filter((row) => row.topic === VERDICT_TOPIC).map((row) => payloadId(row, 'messageId'))),
      this.repository.loadAlerts(missing.filter((row) => row.topic === THIRD_PARTY_ALERT_TOPIC).map((row) => payloadId(row, 'alertId'))),
      this.repository.loadRemediations(missing.filter((row) => row.topic === REMEDIATION_FINISHED_TOPIC).map((row) => payloadId(row, 'remediationId'))),
    ]);
    const rendered = new Map(rows.map((row) => [row.id.toString(), this.cache.get(row.id.toString())]));
    for (const row of missing) {
      let events: MappedEvent[] = [];
      if (row.topic === VERDICT_TOPIC) {
        const exported = messages.get(payloadId(row, 'messageId'));
        if (exported) {
          const details = await readMessageDetails(exported.raw);
          events = [toEmailActivity(exported, details, this.productVersion), ...toMessageFindings(exported, details, this.productVersion)];
        }
      } else if (row.topic === THIRD_PARTY_ALERT_TOPIC) {
        const alert = alerts.get(payloadId(row, 'alertId'));
        if (alert) {
          events = [toAlertFinding(alert, this.productVersion)];
        }
      } else if (row.topic === REMEDIATION_FINISHED_TOPIC) {
        const remediation = remediations.get(payloadId(row, 'remediationId'));
        if (remediation) {
          events = [toRemediationActivity(remediation, this.productVersion)];
        }
      } else if (row.topic === MAILFLOW_ALERT_TOPIC && row.payload) {
        // The payload holds the whole alert (it is append-only), so nothing is loaded.
        events = [toMailflowAlertFinding(row.payload as unknown as MailflowAlertPayload, this.productVersion)];
      }
      if (events.length === 0) {
        this.logger.warn({ event: 'export.row_without_source', outboxId: row.id.toString(), topic: row.topic, aggregateId: row.aggregateId });
      }
      rendered.set(row.id.toString(), events);
      this.remember(row.id.toString(), events);
    }
    return rows.map((row) => ({ row, events: rendered.get(row.id.toString()) ?? [] }));
  }

  private remember(key: string, events: MappedEvent[]): void {
    this.cache.set(key, events);
    while (this.cache.size > this.cacheSize) {
      this.cache.delete(this.cache.keys().next().value!);
    }
  }
}
