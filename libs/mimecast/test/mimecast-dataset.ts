import { readSampleJson, readSampleNdjson } from './samples';
// Test code: this file is only imported by the int-specs of libs/mimecast.
// eslint-disable-next-line no-restricted-imports
import type { FakeMimecastServer } from '@mailwarden/testing';

const logsOf = (file: string, field: string) =>
  readSampleJson<{ data: Array<Record<string, Array<Record<string, unknown>>>> }>(file).data[0]![field]!;

/** Our own fixtures, beside the samples: one malformed attachment and one URL log with a `reason`. */
export const MALFORMED_ATTACHMENT = {
  senderAddress: 'x@evil.example',
  fileName: 'no-recipient.pdf',
  result: 'malicious',
  date: '2024-11-16T10:00:00+0000',
};

export const URL_WITH_REASON = {
  userEmailAddress: 'Ann@Acme.example',
  fromUserEmailAddress: 'spoofer@evil.example',
  url: 'https://evil.example/login',
  ttpDefinition: 'Default Inbound URL Protect Definition',
  reason: 'Invalid Recipient',
  scanResult: 'malicious',
  date: '2024-11-16T12:00:00+0000',
  creationMethod: 'Entry Scan',
  messageId: '<reason-1@evil.example>',
  subject: 'Your mailbox',
};

/**
 * Loads the samples and fixtures into the fake server. What a poll of all of it must give, worked out by hand:
 * - attachment: 7 sample records (6 `safe`, 1 `malicious`) + 1 malformed → 1 stored, 6 clean, 1 malformed;
 * - impersonation: 5 sample hits → 5 stored (2 API 2.0 records share an `id` but not time nor message);
 * - url: 9 sample lines (3 `clean`, 1 page envelope → malformed, 5 `malicious`, 2 of them typed
 *   `Default Internal URL Protect Definition` → unmapped) + 1 with a reason → 6 stored.
 */
export function loadDataset(server: FakeMimecastServer): void {
  server.addLogs('attachment', [
    ...logsOf('api2-ttp-attachment-get-logs.response.json', 'attachmentLogs'),
    ...logsOf('api2-ttp-attachment-get-logs.page2.response.json', 'attachmentLogs'),
    ...readSampleNdjson('ttp-attachment-records.ndjson'),
    MALFORMED_ATTACHMENT,
  ]);
  server.addLogs('impersonation', [
    ...logsOf('api2-ttp-impersonation-get-logs.response.json', 'impersonationLogs'),
    ...readSampleNdjson('ttp-impersonation-records.ndjson'),
  ]);
  // The page envelope line has no date: give it one so the server's window filter serves it like a record.
  const urlLines = readSampleNdjson('ttp-url-records.ndjson').map((line) => ('meta' in line ? { ...line, date: '2022-01-01T00:00:00+0000' } : line));
  server.addLogs('url', [...urlLines, URL_WITH_REASON]);
}

export const DATASET_TOTALS = { received: 23, stored: 12, malformed: 2, clean: 9, unmapped: 2, duplicates: 0 };
