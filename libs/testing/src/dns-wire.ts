/** The records the test DNS (DnsTestServer; also the benchmark's) serves, by lower-case owner name. */
export interface ZoneRecords {
  A?: string[];
  TXT?: string[];
  MX?: Array<{ exchange: string; priority: number }>;
}
export type Zone = Record<string, ZoneRecords>;

export interface DnsQuestion {
  id: number;
  /** Recursion desired, echoed in the answer (RFC 1035 4.1.1). */
  recursionDesired: boolean;
  name: string;
  type: number;
  /** The question section as sent, echoed in the answer. */
  questionBytes: Buffer;
}

export const RR_TYPE = { A: 1, MX: 15, TXT: 16, AAAA: 28 } as const;
const CLASS_IN = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_FORMERR = 1;
const TTL_SECONDS = 300;

/** Reads the first question of a query (RFC 1035 4.1); null for a packet that is not a query we can answer. */
export function parseQuestion(packet: Buffer): DnsQuestion | null {
  if (packet.length < 12 || packet.readUInt16BE(4) < 1 || (packet.readUInt16BE(2) & 0x8000) !== 0) {
    return null;
  }
  const labels: string[] = [];
  let offset = 12;
  for (;;) {
    const length = packet[offset];
    if (length === undefined || length > 63 || offset + 1 + length > packet.length) {
      return null; // compression pointers never occur in a question name
    }
    offset += 1;
    if (length === 0) {
      break;
    }
    labels.push(packet.toString('latin1', offset, offset + length));
    offset += length;
  }
  if (offset + 4 > packet.length) {
    return null;
  }
  return {
    id: packet.readUInt16BE(0),
    recursionDesired: (packet[2]! & 0x01) !== 0,
    name: labels.join('.').toLowerCase(),
    type: packet.readUInt16BE(offset),
    questionBytes: packet.subarray(12, offset + 4),
  };
}

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([...parts.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'latin1')])), Buffer.from([0])]);
}

/** RFC 1035 3.3.14: a TXT value is one or more <character-string>s of at most 255 bytes each. */
function encodeTxt(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const chunks: Buffer[] = [];
  for (let start = 0; start < bytes.length || chunks.length === 0; start += 255) {
    const chunk = bytes.subarray(start, start + 255);
    chunks.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat(chunks);
}

function recordData(type: number, records: ZoneRecords): Buffer[] {
  switch (type) {
    case RR_TYPE.A:
      return (records.A ?? []).map((address) => Buffer.from(address.split('.').map(Number)));
    case RR_TYPE.TXT:
      return (records.TXT ?? []).map(encodeTxt);
    case RR_TYPE.MX:
      return (records.MX ?? []).map((mx) => {
        const priority = Buffer.alloc(2);
        priority.writeUInt16BE(mx.priority);
        return Buffer.concat([priority, encodeName(mx.exchange)]);
      });
    default:
      return [];
  }
}

function header(question: Pick<DnsQuestion, 'id' | 'recursionDesired'>, rcode: number, answers: number, questions: number): Buffer {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt16BE(question.id, 0);
  // QR=1 (response), AA=1 (we are the authority for this zone), RD echoed, RA=1, RCODE.
  bytes.writeUInt16BE(0x8000 | 0x0400 | (question.recursionDesired ? 0x0100 : 0) | 0x0080 | rcode, 2);
  bytes.writeUInt16BE(questions, 4);
  bytes.writeUInt16BE(answers, 6);
  return bytes;
}

/**
 * The answer to one question from the zone: the records of that type (owner written as a pointer to the question
 * name, RFC 1035 4.1.4), NODATA (NOERROR, no answers) when the name exists without that type, NXDOMAIN otherwise.
 */
export function encodeAnswer(question: DnsQuestion, zone: Zone): Buffer {
  const records = zone[question.name];
  if (!records) {
    return Buffer.concat([header(question, RCODE_NXDOMAIN, 0, 1), question.questionBytes]);
  }
  const rdata = recordData(question.type, records);
  const answers = rdata.map((data) => {
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc00c, 0);
    fixed.writeUInt16BE(question.type, 2);
    fixed.writeUInt16BE(CLASS_IN, 4);
    fixed.writeUInt32BE(TTL_SECONDS, 6);
    fixed.writeUInt16BE(data.length, 10);
    return Buffer.concat([fixed, data]);
  });
  return Buffer.concat([header(question, 0, answers.length, 1), question.questionBytes, ...answers]);
}

/** The answer to a packet we could not read: FORMERR with the sender's id, when the id is there at all. */
export function encodeFormatError(packet: Buffer): Buffer | null {
  return packet.length >= 2 ? header({ id: packet.readUInt16BE(0), recursionDesired: false }, RCODE_FORMERR, 0, 0) : null;
}
