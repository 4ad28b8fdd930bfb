import { createHash } from 'node:crypto';
import type { Prisma, ThirdPartyAlertInput } from '@mailwarden/db';
import { alertTypeFor, mitreFor } from './mitre-mapping';
import { parseMimecastDate } from './mimecast-log.validator';
import {
  MimecastLogKind,
  type AttachmentLog,
  type ImpersonationLog,
  type MimecastLogRecord,
  type UrlClickLog,
} from './mimecast.types';

const CLEAN_VERDICTS = new Set(['safe', 'clean']);

/**
 * True when Mimecast itself found nothing wrong, so the record is not an alert:
 * - attachment: `result` is `safe` or `clean` (the samples' sandbox verdicts: `safe` / `malicious`);
 * - URL: `scanResult` is `clean` or `safe` (samples: `clean` clicks allowed, `malicious` ones warned/blocked);
 * - impersonation: Impersonation Protect logs only messages that hit a definition, and the samples all carry
 *   `taggedMalicious: true` with `action: none` (tag only), so `action` alone says nothing. A record is clean
 *   only when it reports no hit at all: `hits` is 0, or it is not tagged malicious, no checker result is a
 *   `hit` and Mimecast took no action (a held or bounced message is an alert whatever the flags say).
 */
export function isCleanMimecastLog(kind: MimecastLogKind, record: MimecastLogRecord): boolean {
  switch (kind) {
    case MimecastLogKind.Attachment:
      return CLEAN_VERDICTS.has((record as AttachmentLog).result.trim().toLowerCase());
    case MimecastLogKind.Url:
      return CLEAN_VERDICTS.has((record as UrlClickLog).scanResult.trim().toLowerCase());
    case MimecastLogKind.Impersonation: {
      const log = record as ImpersonationLog;
      if (log.hits === 0) {
        return true;
      }
      const anyHit = (log.impersonationResults ?? []).some((result) => result?.checkerResult?.toLowerCase() === 'hit');
      return log.taggedMalicious !== true && !anyHit && log.action.trim().toLowerCase() === 'none';
    }
  }
}

const address = (value: string) => value.trim().toLowerCase();
const optional = (value: string | undefined) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : null);

/** The stored fields of an alert, before deduplication. */
export type NormalisedAlert = Omit<ThirdPartyAlertInput, 'dedupHash'>;

/** Maps a validated record to the fields Mailwarden stores, with its alert type and MITRE technique. */
export function normaliseMimecastLog(kind: MimecastLogKind, record: MimecastLogRecord): NormalisedAlert {
  const alertType = alertTypeFor(kind, record);
  const technique = mitreFor(alertType);
  const common = {
    source: 'MIMECAST' as const,
    logType: kind,
    alertType,
    mitreId: technique?.id ?? null,
    mitreName: technique?.name ?? null,
    subject: optional(record.subject),
    messageIdHeader: optional(record.messageId),
    raw: record as unknown as Prisma.InputJsonValue,
  };
  switch (kind) {
    case MimecastLogKind.Attachment: {
      const log = record as AttachmentLog;
      return {
        ...common,
        occurredAt: parseMimecastDate(log.date)!,
        sender: address(log.senderAddress),
        recipient: address(log.recipientAddress),
        url: null,
        fileName: optional(log.fileName),
      };
    }
    case MimecastLogKind.Impersonation: {
      const log = record as ImpersonationLog;
      return {
        ...common,
        occurredAt: parseMimecastDate(log.eventTime)!,
        sender: address(log.senderAddress),
        recipient: address(log.recipientAddress),
        url: null,
        fileName: null,
      };
    }
    case MimecastLogKind.Url: {
      const log = record as UrlClickLog;
      return {
        ...common,
        occurredAt: parseMimecastDate(log.date)!,
        sender: address(log.fromUserEmailAddress),
        recipient: address(log.userEmailAddress),
        url: log.url.trim(),
        fileName: null,
      };
    }
  }
}

/**
 * Mimecast logs carry no unique id (even impersonation `id`s repeat across records), so an alert is
 * identified by a SHA-256 over its normalised fields plus the record fields that tell two events apart
 * (file hash, URL action). The API version is not part of it: API 1.0 and 2.0 give the same hash.
 */
export function dedupHashOf(alert: NormalisedAlert): string {
  const raw = alert.raw as Record<string, unknown>;
  const parts = [
    alert.source,
    alert.logType,
    alert.alertType,
    alert.occurredAt.toISOString(),
    alert.sender,
    alert.recipient,
    alert.messageIdHeader ?? '',
    alert.subject ?? '',
    alert.url ?? '',
    alert.fileName ?? '',
    typeof raw.fileHash === 'string' ? raw.fileHash : '',
    typeof raw.definition === 'string' ? raw.definition : '',
    typeof raw.creationMethod === 'string' ? raw.creationMethod : '',
    typeof raw.action === 'string' ? raw.action : '',
  ];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

export function toThirdPartyAlert(kind: MimecastLogKind, record: MimecastLogRecord): ThirdPartyAlertInput {
  const alert = normaliseMimecastLog(kind, record);
  return { ...alert, dedupHash: dedupHashOf(alert) };
}
