/** Builders for journal copies as Microsoft 365 and Google Workspace send them (tests of the ingest path). */

export interface JournalOriginal {
  from: string;
  to: string[];
  cc?: string[];
  subject: string;
  messageId: string;
  body?: string;
  /** Received fields, newest first (e.g. the provider's edge hop that names the sending client). */
  received?: string[];
  extraHeaders?: string[];
}

export function buildOriginal(original: JournalOriginal): Buffer {
  return Buffer.from(
    [
      ...(original.received ?? []).map((value) => `Received: ${value}`),
      `From: ${original.from}`,
      `To: ${original.to.join(', ')}`,
      ...(original.cc?.length ? [`Cc: ${original.cc.join(', ')}`] : []),
      `Subject: ${original.subject}`,
      `Message-ID: ${original.messageId}`,
      'Date: Wed, 25 Nov 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      ...(original.extraHeaders ?? []),
      '',
      original.body ?? 'Hello, this is the original message.',
      '',
    ].join('\r\n'),
  );
}

export interface MicrosoftReportInput {
  journalAddress: string;
  sender: string;
  subject: string;
  messageId: string;
  to?: string[];
  cc?: string[];
  bcc?: string[];
  /** Members a distribution list was expanded to: `To: member, Expanded: list`. */
  expanded?: { list: string; members: string[] };
  original: Buffer;
}

/** An envelope journal report: X-MS-Journal-Report, a text/plain report part, the original as message/rfc822. */
export function buildMicrosoftJournalReport(input: MicrosoftReportInput): Buffer {
  const boundary = `----=_journal_${Math.random().toString(36).slice(2)}`;
  const report = [
    `Sender: ${input.sender}`,
    `Subject: ${input.subject}`,
    `Message-Id: ${input.messageId}`,
    ...(input.to ?? []).map((address) => `To: ${address}`),
    ...(input.cc ?? []).map((address) => `Cc: ${address}`),
    ...(input.bcc ?? []).map((address) => `Bcc: ${address}`),
    ...(input.expanded?.members ?? []).map((address) => `To: ${address}, Expanded: ${input.expanded!.list}`),
  ].join('\r\n');
  return Buffer.concat([
    Buffer.from(
      [
        'From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@customer.onmicrosoft.com>',
        `To: ${input.journalAddress}`,
        `Subject: ${input.subject}`,
        'X-MS-Journal-Report:',
        `Message-ID: <journal-${Math.random().toString(36).slice(2)}@customer.onmicrosoft.com>`,
        'MIME-Version: 1.0',
        `Content-Type: multipart/mixed; boundary="${boundary}"`,
        '',
        `--${boundary}`,
        'Content-Type: text/plain; charset="us-ascii"',
        'Content-Transfer-Encoding: 7bit',
        '',
        report,
        '',
        `--${boundary}`,
        'Content-Type: message/rfc822',
        'Content-Disposition: attachment',
        '',
        '',
      ].join('\r\n'),
    ),
    input.original,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

/** A Google Workspace journal copy: the original with X-Gm-Original-To naming the recipient. */
export function buildGoogleJournalCopy(recipient: string, original: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`X-Gm-Original-To: ${recipient}\r\n`), original]);
}
