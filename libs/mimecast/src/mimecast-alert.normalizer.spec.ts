import { readSampleJson, readSampleNdjson } from '../test/samples';
import { dedupHashOf, isCleanMimecastLog, normaliseMimecastLog, toThirdPartyAlert } from './mimecast-alert.normalizer';
import { validateMimecastLog } from './mimecast-log.validator';
import { MimecastLogKind, type ImpersonationLog, type MimecastLogRecord } from './mimecast.types';

const valid = (kind: MimecastLogKind, records: unknown[]): MimecastLogRecord[] =>
  records.flatMap((record) => {
    const result = validateMimecastLog(kind, record);
    return result.ok ? [result.record] : [];
  });

const logsOf = (file: string, field: string) => readSampleJson<{ data: Array<Record<string, unknown[]>> }>(file).data[0]![field]!;

describe('isCleanMimecastLog', () => {
  it('should drop the safe attachments of the samples and keep the malicious one', () => {
    const records = valid(MimecastLogKind.Attachment, [
      ...logsOf('api2-ttp-attachment-get-logs.response.json', 'attachmentLogs'),
      ...logsOf('api2-ttp-attachment-get-logs.page2.response.json', 'attachmentLogs'),
      ...readSampleNdjson('ttp-attachment-records.ndjson'),
    ]);
    const kept = records.filter((record) => !isCleanMimecastLog(MimecastLogKind.Attachment, record));
    expect(records).toHaveLength(7);
    expect(kept.map((record) => (record as { fileName: string }).fileName)).toEqual(['Sandbox Test.xlsx']);
  });

  it('should drop the clean URL clicks of the samples and keep the malicious ones', () => {
    const records = valid(MimecastLogKind.Url, readSampleNdjson('ttp-url-records.ndjson'));
    const kept = records.filter((record) => !isCleanMimecastLog(MimecastLogKind.Url, record));
    expect(records).toHaveLength(8);
    expect(kept).toHaveLength(5);
    expect(kept.every((record) => (record as { scanResult: string }).scanResult === 'malicious')).toBe(true);
  });

  it('should treat a Safe or CLEAN verdict whatever its case as clean', () => {
    const base = { senderAddress: 'a@b', recipientAddress: 'c@d', date: '2024-11-17T00:52:30+0000' };
    expect(isCleanMimecastLog(MimecastLogKind.Attachment, { ...base, result: 'Safe' })).toBe(true);
    expect(isCleanMimecastLog(MimecastLogKind.Attachment, { ...base, result: 'CLEAN ' })).toBe(true);
    expect(isCleanMimecastLog(MimecastLogKind.Attachment, { ...base, result: 'unknown' })).toBe(false);
  });

  it('should keep the impersonation hits of the samples, tagged ones with action none included', () => {
    const records = valid(MimecastLogKind.Impersonation, readSampleNdjson('ttp-impersonation-records.ndjson'));
    expect(records.map((record) => isCleanMimecastLog(MimecastLogKind.Impersonation, record))).toEqual([false, false, false]);
  });

  it('should drop an impersonation record that reports no hit', () => {
    const base: ImpersonationLog = { senderAddress: 'a@b', recipientAddress: 'c@d', action: 'none', eventTime: '2021-10-15T17:10:46+0000' };
    expect(isCleanMimecastLog(MimecastLogKind.Impersonation, { ...base, hits: 0, taggedMalicious: true })).toBe(true);
    expect(isCleanMimecastLog(MimecastLogKind.Impersonation, { ...base, taggedMalicious: false, impersonationResults: [] })).toBe(true);
    expect(
      isCleanMimecastLog(MimecastLogKind.Impersonation, {
        ...base,
        taggedMalicious: false,
        impersonationResults: [{ checkerResult: 'hit' }],
      }),
    ).toBe(false);
    expect(isCleanMimecastLog(MimecastLogKind.Impersonation, { ...base, action: 'hold', taggedMalicious: false })).toBe(false);
  });
});

describe('normaliseMimecastLog', () => {
  it('should map a URL click to sender, recipient, URL and the TTP definition type', () => {
    const [record] = valid(MimecastLogKind.Url, [logsOf('api2-ttp-url-get-logs.response.json', 'clickLogs')[1]]);
    expect(normaliseMimecastLog(MimecastLogKind.Url, record!)).toMatchObject({
      source: 'MIMECAST',
      logType: 'url',
      alertType: 'Default Inbound URL Protect Definition',
      mitreId: 'T1598.003',
      mitreName: 'Spearphishing Link',
      occurredAt: new Date('2024-11-14T19:44:02Z'),
      sender: 'terrym@concept-variety.b41.one',
      recipient: 'jhartso@demo-int.elastic.mime-api.com',
      subject: 'WP-02 Data Response',
      url: 'https://oneclient.sfx.ms/Win/Preview/OneDriveSetup.exe',
      fileName: null,
      messageIdHeader: '<29b951d7ab596678-115297@hapi.b41.one>',
      raw: record,
    });
  });

  it('should keep an unknown alert type without a MITRE mapping', () => {
    const [record] = valid(MimecastLogKind.Url, [logsOf('api2-ttp-url-get-logs.response.json', 'clickLogs')[0]]);
    expect(normaliseMimecastLog(MimecastLogKind.Url, record!)).toMatchObject({
      alertType: 'Default Internal URL Protect Definition',
      mitreId: null,
      mitreName: null,
    });
  });

  it('should map an attachment and an impersonation log', () => {
    const [attachment] = valid(MimecastLogKind.Attachment, [logsOf('api2-ttp-attachment-get-logs.page2.response.json', 'attachmentLogs')[1]]);
    expect(normaliseMimecastLog(MimecastLogKind.Attachment, attachment!)).toMatchObject({
      alertType: 'Unsafe Email Attachment',
      mitreId: 'T1598.002',
      fileName: 'Sandbox Test.xlsx',
      sender: 'eric.boyt@demo-int.elastic.mime-api.com',
      occurredAt: new Date('2024-11-17T00:52:30Z'),
    });
    const [impersonation] = valid(MimecastLogKind.Impersonation, [readSampleNdjson('ttp-impersonation-records.ndjson')[2]]);
    expect(normaliseMimecastLog(MimecastLogKind.Impersonation, impersonation!)).toMatchObject({
      alertType: 'Impersonation Attempt',
      mitreId: 'T1598.003',
      sender: 'johndoe@mimecast.com',
      recipient: 'johndoe@example.com',
      occurredAt: new Date('2021-10-13T16:12:07Z'),
    });
  });
});

describe('dedupHashOf', () => {
  const impersonations = valid(MimecastLogKind.Impersonation, logsOf('api2-ttp-impersonation-get-logs.response.json', 'impersonationLogs'));

  it('should give the same hash to the same record whatever the key order or address case', () => {
    const record = impersonations[0] as ImpersonationLog;
    const reordered = Object.fromEntries(Object.entries(record).reverse()) as unknown as ImpersonationLog;
    const shouted = { ...reordered, senderAddress: record.senderAddress.toUpperCase() };
    expect(toThirdPartyAlert(MimecastLogKind.Impersonation, shouted).dedupHash).toBe(
      toThirdPartyAlert(MimecastLogKind.Impersonation, record).dedupHash,
    );
  });

  it('should tell apart records that share an id but not their time and message', () => {
    // The two sample records carry the same Mimecast `id`.
    expect((impersonations[0] as ImpersonationLog).id).toBe((impersonations[1] as ImpersonationLog).id);
    const [first, second] = impersonations.map((record) => toThirdPartyAlert(MimecastLogKind.Impersonation, record).dedupHash);
    expect(first).not.toBe(second);
  });

  it('should be a hex SHA-256', () => {
    expect(dedupHashOf(normaliseMimecastLog(MimecastLogKind.Impersonation, impersonations[0]!))).toMatch(/^[0-9a-f]{64}$/);
  });
});
