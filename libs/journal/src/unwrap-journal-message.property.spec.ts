import fc from 'fast-check';
import {
  buildGoogleJournalCopy,
  buildMicrosoftJournalReport,
  encodeQuotedPrintable,
  type BuiltRecipient,
  type MicrosoftReportSpec,
} from '@mailwarden/testing';
import { loadFixture } from '../test/load-fixture';
import { JournalParseError } from './journal-parse-error';
import { findBareLineEnds, hasBareCrOrLf, normalizeLineEnds } from './line-ends';
import { parseMicrosoftJournalReport } from './microsoft-journal-report.parser';
import { summarizeMessageHeaders } from './message-headers';
import { decodeQuotedPrintable } from './mime/transfer-encoding';
import { parseGoogleJournalCopy } from './google-journal-copy.parser';
import { unwrapJournalMessage } from './unwrap-journal-message';

// Fixed seed: a failure reproduces on every machine (fast-check prints the counterexample, its seed and path).
// Longer fuzz runs by hand: FUZZ_RUNS=200000 FUZZ_SEED=$RANDOM npm run -s test:unit -- --testPathPatterns=property (tools/faults/README.md).
const RUNS = { seed: Number(process.env.FUZZ_SEED ?? 42), numRuns: Number(process.env.FUZZ_RUNS ?? 300) };
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

const reportSpec: fc.Arbitrary<MicrosoftReportSpec & { recipients: BuiltRecipient[] }> = fc.record({
  sender: fc.oneof(address, fc.constant('<>')),
  subject,
  messageId: address.map((id) => `<${id}>`),
  onBehalfOf: fc.option(address, { nil: undefined }),
  recipients: fc.array(recipient, { minLength: 1, maxLength: 25 }),
  original,
  boundary: fc.constant(BOUNDARY),
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

  it('should return, for an unencoded rfc822 part, a view of exactly that part of the input (no copy, no rewrite)', () => {
    fc.assert(
      fc.property(reportSpec, (spec) => {
        const raw = buildMicrosoftJournalReport({ ...spec, originalEncoding: '7bit' });
        const result = unwrapJournalMessage(raw);
        if (result.kind !== 'microsoft') {
          throw new Error(`not unwrapped: ${JSON.stringify(result)}`);
        }
        // The part's content starts after its header section and ends before the CRLF of the close delimiter.
        const partHead = Buffer.from('Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n');
        const start = raw.indexOf(partHead) + partHead.length;
        expect(result.original.buffer).toBe(raw.buffer);
        expect(result.original.byteOffset - raw.byteOffset).toBe(start);
        expect(result.original.length).toBe(raw.lastIndexOf(`\r\n--${BOUNDARY}--`) - start);
        expect(result.original.equals(spec.original)).toBe(true);
      }),
      RUNS,
    );
  });

  it('should read back the recipients of a Google copy', () => {
    fc.assert(
      fc.property(fc.array(address, { minLength: 1, maxLength: 10 }), address, (recipients, id) => {
        const message = Buffer.from(`Message-ID: <${id}>\r\nFrom: a@x.com\r\nSubject: s\r\n\r\nbody\r\n`);
        const result = unwrapJournalMessage(buildGoogleJournalCopy(recipients.join(', '), message));
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

    /** Any input: never an exception from the unwrapper, and only JournalParseError from either parser. */
    function assertOnlyParseErrors(raw: Buffer): void {
      const result = unwrapJournalMessage(raw);
      expect(['microsoft', 'google', 'unrecognized']).toContain(result.kind);
      if (result.kind === 'google') {
        // A Google copy has no wrapper: the original is the delivery itself.
        expect(result.original).toBe(raw);
      }
      for (const parse of [parseMicrosoftJournalReport, parseGoogleJournalCopy]) {
        try {
          parse(raw);
        } catch (error) {
          expect(error).toBeInstanceOf(JournalParseError);
        }
      }
    }

    it('should take random bytes, alone or behind either journal marker, without throwing', () => {
      const marker = fc.constantFrom('', 'X-MS-Journal-Report:\r\n', 'X-Gm-Original-To: bob@customer.example\r\n', 'X-MS-Journal-Report:\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n');
      fc.assert(
        fc.property(marker, fc.uint8Array({ maxLength: 4096 }), (head, bytes) => assertOnlyParseErrors(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(bytes)]))),
        RUNS,
      );
    });

    /** Damage to the delimiters of a real report: RFC 2046 5.1.1 boundary lines changed, dropped or duplicated. */
    const boundaryDamage = fc.record({
      which: fc.nat(),
      how: fc.constantFrom('drop-dashes', 'flip-char', 'trailing-junk', 'bare-lf', 'delete-line', 'duplicate-line', 'drop-close', 'param-mismatch'),
    });

    function damageBoundary(seed: Buffer, damage: { which: number; how: string }): Buffer {
      const text = seed.toString('latin1');
      const boundary = /boundary="?([^";\r\n]+)"?/i.exec(text)?.[1];
      if (!boundary) return seed;
      const lines = [...text.matchAll(new RegExp(`(^|\\n)--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(--)?`, 'g'))];
      const line = lines[damage.which % lines.length];
      if (!line || line.index === undefined) return seed;
      const at = line.index + line[1]!.length;
      const end = at + line[0].length - line[1]!.length;
      const edit = (replacement: string) => Buffer.from(text.slice(0, at) + replacement + text.slice(end), 'latin1');
      const delimiter = text.slice(at, end);
      switch (damage.how) {
        case 'drop-dashes':
          return edit(delimiter.slice(2));
        case 'flip-char':
          return edit(`${delimiter.slice(0, -1)}${delimiter.endsWith('x') ? 'y' : 'x'}`);
        case 'trailing-junk':
          return edit(`${delimiter}junk`);
        case 'bare-lf':
          return Buffer.from(text.replace(/\r\n/g, '\n'), 'latin1');
        case 'delete-line':
          return edit('');
        case 'duplicate-line':
          return edit(`${delimiter}\r\n${delimiter}`);
        case 'drop-close':
          return Buffer.from(text.replace(`--${boundary}--`, ''), 'latin1');
        default:
          return Buffer.from(text.replace(`boundary="${boundary}"`, `boundary="${boundary}x"`), 'latin1');
      }
    }

    it('should survive damaged multipart delimiters in real reports', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: SEEDS.length - 1 }), fc.array(boundaryDamage, { minLength: 1, maxLength: 4 }), (index, damages) =>
          assertOnlyParseErrors(damages.reduce((bytes, damage) => damageBoundary(bytes, damage), SEEDS[index]!)),
        ),
        RUNS,
      );
    });

    /** Damage to header folding (RFC 5322 2.2.3): a fold unfolded into a new line, a fold added, a line end made bare. */
    const foldDamage = fc.record({ at: fc.nat(), how: fc.constantFrom('unfold-to-line', 'fold-here', 'bare-cr', 'bare-lf', 'empty-line', 'colon-less') });

    function damageFolding(seed: Buffer, damage: { at: number; how: string }): Buffer {
      const text = seed.toString('latin1');
      const breaks = [...text.matchAll(/\r\n/g)].map((match) => match.index!);
      if (breaks.length === 0) return seed;
      const at = breaks[damage.at % breaks.length]!;
      const splice = (length: number, replacement: string) => Buffer.from(text.slice(0, at) + replacement + text.slice(at + length), 'latin1');
      switch (damage.how) {
        case 'unfold-to-line':
          // "\r\n\t" or "\r\n " loses its whitespace: the continuation becomes a line of its own.
          return /[ \t]/.test(text[at + 2] ?? '') ? splice(3, '\r\n') : seed;
        case 'fold-here':
          return splice(0, '\r\n ');
        case 'bare-cr':
          return splice(2, '\r');
        case 'bare-lf':
          return splice(2, '\n');
        case 'empty-line':
          return splice(0, '\r\n');
        default:
          return splice(2, '\r\nno colon on this line\r\n');
      }
    }

    it('should survive damaged header folding in real reports', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: SEEDS.length - 1 }), fc.array(foldDamage, { minLength: 1, maxLength: 6 }), (index, damages) =>
          assertOnlyParseErrors(damages.reduce((bytes, damage) => damageFolding(bytes, damage), SEEDS[index]!)),
        ),
        RUNS,
      );
    });

    it('should survive byte mutations and truncation of every kind together', () => {
      fc.assert(fc.property(mutated, assertOnlyParseErrors), RUNS);
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

describe(`${summarizeMessageHeaders.name} (properties)`, () => {
  const headerValue = fc.uint8Array({ maxLength: 80 }).map((bytes) => Buffer.from(bytes.filter((byte) => byte !== 0x0a && byte !== 0x0d)).toString('latin1'));

  it('should record no U+0000 (PostgreSQL text cannot hold it), whatever bytes or encoded words the fields carry', () => {
    const encodedNul = fc.constantFrom('', '=?utf-8?Q?a=00b?=', '=?utf-8?B?AA==?=', '\u0000');
    fc.assert(
      fc.property(headerValue, headerValue, headerValue, encodedNul, (from, subject, messageId, nul) => {
        const raw = Buffer.from(`From: ${from}${nul}<a${nul}@x.example>\r\nSubject: ${subject} ${nul}\r\nMessage-ID: <${messageId}${nul}@x>\r\n\r\nbody\r\n`, 'latin1');
        const summary = summarizeMessageHeaders(raw);
        for (const value of [summary.from, summary.subject, summary.messageId]) {
          expect(value ?? '').not.toContain('\u0000');
        }
      }),
      RUNS,
    );
  });
});
