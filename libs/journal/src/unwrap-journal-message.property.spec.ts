import fc from 'fast-check';
import {
  buildGoogleCopy,
  buildMicrosoftJournalReport,
  encodeQuotedPrintable,
  type BuiltRecipient,
  type MicrosoftReportSpec,
} from '../test/journal-report.builder';
import { loadFixture } from '../test/load-fixture';
import { JournalParseError } from './journal-parse-error';
import { findBareLineEnds, hasBareCrOrLf, normalizeLineEnds } from './line-ends';
import { parseMicrosoftJournalReport } from './microsoft-journal-report.parser';
import { decodeQuotedPrintable } from './mime/transfer-encoding';
import { unwrapJournalMessage } from './unwrap-journal-message';

// Fixed seed: a failure reproduces on every machine (fast-check prints the counterexample and its path).
const RUNS = { seed: 42, numRuns: 300 };
const BOUNDARY = '_4d3c2b1a-0f9e-4d8c-b7a6-958473625140_';

const address = fc.emailAddress();

const recipient: fc.Arbitrary<BuiltRecipient> = fc.record(
  {
    address,
    type: fc.constantFrom('to', 'cc', 'bcc', 'recipient'),
    expandedFrom: address,
    forwardedFrom: address,
  },
  { requiredKeys: ['address', 'type'] },
);

/** Report subjects: any text on one line; the report trims it, so the builder gets it trimmed. */
const subject = fc.string({ unit: 'grapheme', maxLength: 200 }).map((text) => text.replace(/[\r\n]/g, ' ').trim());

/** Original messages: arbitrary bytes after a header, never containing the report's delimiter line. */
const original = fc
  .tuple(fc.string({ unit: 'grapheme-ascii', maxLength: 60 }), fc.uint8Array({ minLength: 0, maxLength: 2000 }))
  .map(([subjectText, body]) => Buffer.concat([Buffer.from(`Subject: ${subjectText.replace(/[\r\n]/g, '')}\r\n\r\n`), Buffer.from(body)]))
  .filter((bytes) => !bytes.includes(`--${BOUNDARY}`));

const reportSpec: fc.Arbitrary<MicrosoftReportSpec> = fc.record({
  sender: fc.oneof(address, fc.constant('<>')),
  subject,
  messageId: address.map((id) => `<${id}>`),
  onBehalfOf: fc.option(address, { nil: undefined }),
  recipients: fc.array(recipient, { minLength: 1, maxLength: 25 }),
  original,
  reportEncoding: fc.constantFrom('7bit', 'base64', 'quoted-printable'),
  originalEncoding: fc.constantFrom('7bit', 'base64', 'quoted-printable'),
  fieldCase: fc.constantFrom('canonical', 'upper', 'lower'),
  foldAt: fc.option(fc.integer({ min: 20, max: 120 }), { nil: undefined }),
});

describe(`${unwrapJournalMessage.name} (properties)`, () => {
  it('should read back every field a Microsoft 365 report builder wrote', () => {
    fc.assert(
      fc.property(reportSpec, (spec) => {
        const result = unwrapJournalMessage(buildMicrosoftJournalReport(spec));
        if (result.kind !== 'microsoft') {
          throw new Error(`not unwrapped: ${JSON.stringify(result)}`);
        }
        expect(result.sender).toBe(spec.sender === '<>' ? '' : spec.sender);
        expect(result.subject).toBe(spec.subject);
        expect(result.messageId).toBe(spec.messageId);
        expect(result.onBehalfOf).toBe(spec.onBehalfOf);
        expect(result.recipients).toEqual(spec.recipients);
        expect(result.envelopeRecipients).toEqual([...new Set(spec.recipients.map((r) => r.address.toLowerCase()))]);
        expect(result.dedupKeys).toEqual(result.envelopeRecipients.map((r) => `${spec.messageId}|${r}`));
        expect(result.original.equals(spec.original)).toBe(true);
      }),
      RUNS,
    );
  });

  it('should read back the recipients of a Google copy', () => {
    fc.assert(
      fc.property(fc.array(address, { minLength: 1, maxLength: 10 }), address, (recipients, id) => {
        const message = Buffer.from(`Message-ID: <${id}>\r\nFrom: a@x.com\r\nSubject: s\r\n\r\nbody\r\n`);
        const result = unwrapJournalMessage(buildGoogleCopy(recipients.join(', '), message));
        if (result.kind !== 'google') {
          throw new Error(`not unwrapped: ${JSON.stringify(result)}`);
        }
        expect(result.recipients).toEqual([...new Set(recipients)]);
        expect(result.dedupKeys).toEqual([...new Set(recipients.map((r) => r.toLowerCase()))].map((r) => `<${id}>|${r}`));
      }),
      RUNS,
    );
  });

  describe('fuzzing', () => {
    const SEEDS = [
      loadFixture('m365-journal-report.eml'),
      loadFixture('m365-forwarded-mixed-case.eml'),
      loadFixture('m365-base64-report.eml'),
      loadFixture('m365-qp-report-base64-original.eml'),
      loadFixture('google-copy.eml'),
    ];
    // Bytes that mean something to the parser are tried far more often than random ones.
    const interestingByte = fc.oneof(
      fc.constantFrom(...Buffer.from('\r\n\t -:;,=?"()<>@\\_/').values(), 0x00, 0x80, 0xff),
      fc.integer({ min: 0, max: 255 }),
    );
    type Mutation =
      | { op: 'set'; at: number; byte: number }
      | { op: 'insert'; at: number; bytes: Uint8Array }
      | { op: 'delete' | 'duplicate'; at: number; length: number }
      | { op: 'truncate'; at: number };
    const mutation: fc.Arbitrary<Mutation> = fc.oneof(
      fc.record({ op: fc.constant('set' as const), at: fc.nat(), byte: interestingByte }),
      fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
      fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 400 }) }),
    );

    function mutate(seed: Buffer, mutations: Mutation[]): Buffer {
      let bytes = Buffer.from(seed);
      for (const m of mutations) {
        const at = bytes.length === 0 ? 0 : m.at % bytes.length;
        switch (m.op) {
          case 'set':
            if (bytes.length > 0) bytes[at] = m.byte;
            break;
          case 'insert':
            bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.bytes), bytes.subarray(at)]);
            break;
          case 'delete':
            bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
            break;
          case 'truncate':
            bytes = bytes.subarray(0, at);
            break;
          case 'duplicate':
            bytes = Buffer.concat([bytes.subarray(0, at + m.length), bytes.subarray(at)]);
            break;
        }
      }
      return bytes;
    }

    const mutated = fc
      .tuple(fc.integer({ min: 0, max: SEEDS.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 }))
      .map(([index, mutations]) => mutate(SEEDS[index], mutations));

    it('should always answer with a result, never an exception', () => {
      fc.assert(
        fc.property(mutated, (raw) => {
          const result = unwrapJournalMessage(raw);
          expect(['microsoft', 'google', 'unrecognized']).toContain(result.kind);
          if (result.kind !== 'unrecognized') {
            expect(result.envelopeRecipients.length).toBeGreaterThan(0);
            expect(result.envelopeRecipients.every((r) => r === r.toLowerCase())).toBe(true);
            expect(result.original.length).toBeGreaterThan(0);
          }
        }),
        RUNS,
      );
    });

    it('should throw nothing but JournalParseError from the Microsoft parser', () => {
      fc.assert(
        fc.property(mutated, (raw) => {
          try {
            parseMicrosoftJournalReport(raw);
          } catch (error) {
            expect(error).toBeInstanceOf(JournalParseError);
          }
        }),
        RUNS,
      );
    });

    /** Report text made of the pieces the line parser reacts to, in any order, through every encoding. */
    const reportText = fc
      .array(
        fc.oneof(
          fc.constantFrom('To', 'cc', 'BCC', 'Recipient', 'Sender', 'subject', 'Message-Id', 'On-Behalf-Of', 'Expanded', 'FORWARDED'),
          fc.constantFrom(':', ',', ' ', '\t', '\r\n', '\n', '\r', '<', '>', '<>', '"', '(', ')', '\\', '@', ';', '=?', '?=', '\u0000', 'é', '\u2028'),
          address,
          fc.string({ unit: 'binary', maxLength: 4 }),
        ),
        { maxLength: 120 },
      )
      .map((tokens) => tokens.join(''));

    it('should read any report text without throwing, keeping only addresses', () => {
      fc.assert(
        fc.property(reportText, fc.constantFrom('7bit', 'base64', 'quoted-printable'), (text, reportEncoding) => {
          const raw = buildMicrosoftJournalReport({
            sender: '',
            subject: '',
            messageId: '',
            recipients: [],
            original: Buffer.from('Subject: x\r\n\r\nbody\r\n'),
            rawReportText: text,
            reportEncoding,
          });
          const result = unwrapJournalMessage(raw);
          expect(['microsoft', 'unrecognized']).toContain(result.kind);
          if (result.kind === 'microsoft') {
            for (const { address, expandedFrom, forwardedFrom } of result.recipients) {
              for (const value of [address, expandedFrom, forwardedFrom].filter((v) => v !== undefined)) {
                expect(value).toMatch(/^[^\s<>,;]+@[^\s<>,;]+$/);
              }
            }
          }
        }),
        RUNS,
      );
    });

    it('should survive arbitrary bytes after a Microsoft 365 marker', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
          const raw = Buffer.concat([Buffer.from(`X-MS-Journal-Report:\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n`), Buffer.from(bytes)]);
          expect(unwrapJournalMessage(raw).kind).toMatch(/^(microsoft|unrecognized)$/);
        }),
        RUNS,
      );
    });
  });
});

describe(`${normalizeLineEnds.name} (properties)`, () => {
  const lineBytes = fc.uint8Array({ maxLength: 500 }).map((bytes) => Buffer.from(bytes.map((b) => [0x0d, 0x0a, 0x2e, b][b % 4])));

  it('should find exactly the bytes the RFC 5321 2.3.8 definition names', () => {
    // Reference: a CR not followed by LF, an LF not preceded by CR, read byte by byte.
    const reference = (raw: Buffer) =>
      [...raw].flatMap((byte, i) =>
        byte === 0x0d && raw[i + 1] !== 0x0a ? [{ offset: i, kind: 'CR' }] : byte === 0x0a && raw[i - 1] !== 0x0d ? [{ offset: i, kind: 'LF' }] : [],
      );
    fc.assert(
      fc.property(lineBytes, (raw) => {
        expect(findBareLineEnds(raw)).toEqual(reference(raw));
      }),
      RUNS,
    );
  });

  it('should leave no bare CR or LF and change nothing else', () => {
    fc.assert(
      fc.property(lineBytes, (raw) => {
        const normalized = normalizeLineEnds(raw);
        expect(hasBareCrOrLf(normalized)).toBe(false);
        expect(normalizeLineEnds(normalized)).toBe(normalized);
        expect(normalized.length).toBe(raw.length + findBareLineEnds(raw).length);
        expect(normalized === raw).toBe(!hasBareCrOrLf(raw));
        const strip = (buffer: Buffer) => buffer.toString('latin1').replace(/[\r\n]/g, '');
        expect(strip(normalized)).toBe(strip(raw));
      }),
      RUNS,
    );
  });
});

describe(`${decodeQuotedPrintable.name} (properties)`, () => {
  it('should invert a quoted-printable encoder for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1000 }), (bytes) => {
        const input = Buffer.from(bytes);
        expect(decodeQuotedPrintable(Buffer.from(encodeQuotedPrintable(input), 'latin1')).equals(input)).toBe(true);
      }),
      RUNS,
    );
  });
});
