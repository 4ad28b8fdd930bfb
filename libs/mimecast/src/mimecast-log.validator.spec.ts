import { readSampleJson, readSampleNdjson } from '../test/samples';
import { formatMimecastDate, parseMimecastDate, validateMimecastLog } from './mimecast-log.validator';
import { MimecastLogKind } from './mimecast.types';

const firstRecord = (file: string, field: string) =>
  (readSampleJson<{ data: Array<Record<string, unknown[]>> }>(file).data[0]![field]![0] as Record<string, unknown>);

describe('parseMimecastDate', () => {
  it('should read the +0000 offsets Mimecast writes', () => {
    expect(parseMimecastDate('2024-11-17T03:23:20+0000')?.toISOString()).toBe('2024-11-17T03:23:20.000Z');
    expect(parseMimecastDate('2024-11-17T03:23:20+0130')?.toISOString()).toBe('2024-11-17T01:53:20.000Z');
  });

  it('should read ISO 8601 offsets and Z', () => {
    expect(parseMimecastDate('2024-11-17T03:23:20-05:00')?.toISOString()).toBe('2024-11-17T08:23:20.000Z');
    expect(parseMimecastDate('2024-11-17T03:23:20.250Z')?.toISOString()).toBe('2024-11-17T03:23:20.250Z');
  });

  it('should refuse anything else', () => {
    expect(parseMimecastDate('17/11/2024 03:23')).toBeNull();
    expect(parseMimecastDate('2024-13-40T99:00:00+0000')).toBeNull();
    expect(parseMimecastDate('')).toBeNull();
  });

  it('should format filter dates the way Mimecast writes them', () => {
    expect(formatMimecastDate(new Date('2026-11-25T15:00:07.900Z'))).toBe('2026-11-25T15:00:07+0000');
  });
});

describe('validateMimecastLog', () => {
  it.each([
    [MimecastLogKind.Attachment, 'ttp-attachment-records.ndjson'],
    [MimecastLogKind.Impersonation, 'ttp-impersonation-records.ndjson'],
  ])('should accept every %s record of the samples', (kind, file) => {
    for (const record of readSampleNdjson(file)) {
      expect(validateMimecastLog(kind, record)).toEqual({ ok: true, record });
    }
  });

  it('should accept the URL records of the samples, and refuse the page envelope mixed into them', () => {
    const results = readSampleNdjson('ttp-url-records.ndjson').map((record) => validateMimecastLog(MimecastLogKind.Url, record));
    expect(results.filter((result) => result.ok)).toHaveLength(8);
    expect(results[3]).toEqual({ ok: false, reason: 'userEmailAddress must be a non-empty string' });
  });

  it.each([
    [MimecastLogKind.Attachment, 'api2-ttp-attachment-get-logs.response.json', 'attachmentLogs'],
    [MimecastLogKind.Impersonation, 'api2-ttp-impersonation-get-logs.response.json', 'impersonationLogs'],
    [MimecastLogKind.Url, 'api2-ttp-url-get-logs.response.json', 'clickLogs'],
  ])('should accept the %s records of the API 2.0 responses', (kind, file, field) => {
    expect(validateMimecastLog(kind, firstRecord(file, field)).ok).toBe(true);
  });

  it('should refuse a record without its recipient', () => {
    const { recipientAddress: _dropped, ...record } = firstRecord('api2-ttp-attachment-get-logs.response.json', 'attachmentLogs');
    expect(validateMimecastLog(MimecastLogKind.Attachment, record)).toEqual({
      ok: false,
      reason: 'recipientAddress must be a non-empty string',
    });
  });

  it('should refuse a record whose date is not a timestamp', () => {
    const record = { ...firstRecord('api2-ttp-impersonation-get-logs.response.json', 'impersonationLogs'), eventTime: 'yesterday' };
    expect(validateMimecastLog(MimecastLogKind.Impersonation, record)).toEqual({
      ok: false,
      reason: 'eventTime must be a Mimecast timestamp',
    });
  });

  it('should refuse a field of the wrong type', () => {
    const record = { ...firstRecord('api2-ttp-impersonation-get-logs.response.json', 'impersonationLogs'), hits: 'one' };
    expect(validateMimecastLog(MimecastLogKind.Impersonation, record)).toEqual({ ok: false, reason: 'hits must be a number' });
    const url = { ...firstRecord('api2-ttp-url-get-logs.response.json', 'clickLogs'), ttpDefinition: 7 };
    expect(validateMimecastLog(MimecastLogKind.Url, url)).toEqual({ ok: false, reason: 'ttpDefinition must be a string' });
  });

  it('should refuse values that are not objects', () => {
    for (const value of [null, 'text', 3, []]) {
      expect(validateMimecastLog(MimecastLogKind.Url, value)).toEqual({ ok: false, reason: 'record must be an object' });
    }
  });
});
