import { encodeAnswer, encodeFormatError, parseQuestion, RR_TYPE, type Zone } from './dns-wire';

/** A query as a stub resolver sends it: header (id, RD), one question, optionally an EDNS OPT record after it. */
function query(name: string, type: number, options: { id?: number; edns?: boolean } = {}): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(options.id ?? 0x1234, 0);
  header.writeUInt16BE(0x0100, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(options.edns ? 1 : 0, 10);
  const labels = name.split('.').map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)]));
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  const opt = options.edns ? Buffer.from([0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0]) : Buffer.alloc(0);
  return Buffer.concat([header, ...labels, Buffer.from([0]), tail, opt]);
}

/** Reads the answer records' rdata (the test's own decoder, independent of the encoder). */
function answers(packet: Buffer, questionLength: number): Array<{ pointer: number; type: number; ttl: number; rdata: Buffer }> {
  const records = [];
  let offset = 12 + questionLength;
  for (let index = 0; index < packet.readUInt16BE(6); index++) {
    const length = packet.readUInt16BE(offset + 10);
    records.push({ pointer: packet.readUInt16BE(offset), type: packet.readUInt16BE(offset + 2), ttl: packet.readUInt32BE(offset + 6), rdata: packet.subarray(offset + 12, offset + 12 + length) });
    offset += 12 + length;
  }
  expect(offset).toBe(packet.length);
  return records;
}

function characterStrings(rdata: Buffer): string[] {
  const strings = [];
  for (let offset = 0; offset < rdata.length; offset += 1 + rdata[offset]!) {
    strings.push(rdata.toString('utf8', offset + 1, offset + 1 + rdata[offset]!));
  }
  return strings;
}

describe('bench DNS wire format', () => {
  const key = `v=DKIM1; k=rsa; p=${'A'.repeat(392)}`;
  const zone: Zone = {
    'sender.bench.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'], A: ['127.0.0.1'], MX: [{ exchange: 'mx.sender.bench.test', priority: 10 }] },
    'bench._domainkey.sender.bench.test': { TXT: [key] },
  };

  it('should read the question, lower-casing the name, and ignore an EDNS record after it', () => {
    const question = parseQuestion(query('Sender.Bench.TEST', RR_TYPE.TXT, { id: 77, edns: true }))!;
    expect(question).toMatchObject({ id: 77, recursionDesired: true, name: 'sender.bench.test', type: RR_TYPE.TXT });
    expect(question.questionBytes.length).toBe('sender.bench.test'.length + 2 + 4);
  });

  it('should answer TXT with the id, QR/AA/RD set, the question echoed and the owner as a pointer to it', () => {
    const packet = query('sender.bench.test', RR_TYPE.TXT, { id: 0xbeef });
    const question = parseQuestion(packet)!;
    const answer = encodeAnswer(question, zone);
    expect(answer.readUInt16BE(0)).toBe(0xbeef);
    expect(answer.readUInt16BE(2) & 0x8000).toBe(0x8000);
    expect(answer.readUInt16BE(2) & 0x0400).toBe(0x0400);
    expect(answer.readUInt16BE(2) & 0x0100).toBe(0x0100);
    expect(answer.readUInt16BE(2) & 0x000f).toBe(0);
    expect(answer.readUInt16BE(4)).toBe(1);
    expect(answer.subarray(12, 12 + question.questionBytes.length).equals(question.questionBytes)).toBe(true);
    const [record, ...rest] = answers(answer, question.questionBytes.length);
    expect(rest).toEqual([]);
    expect(record).toMatchObject({ pointer: 0xc00c, type: RR_TYPE.TXT, ttl: 300 });
    expect(characterStrings(record!.rdata)).toEqual(['v=spf1 ip4:127.0.0.1 -all']);
  });

  it('should split a TXT value longer than 255 bytes (a 2048-bit DKIM key) into character-strings', () => {
    const question = parseQuestion(query('bench._domainkey.sender.bench.test', RR_TYPE.TXT))!;
    const [record] = answers(encodeAnswer(question, zone), question.questionBytes.length);
    const strings = characterStrings(record!.rdata);
    expect(strings.map((value) => value.length)).toEqual([255, key.length - 255]);
    expect(strings.join('')).toBe(key);
  });

  it('should answer A and MX records', () => {
    const a = parseQuestion(query('sender.bench.test', RR_TYPE.A))!;
    expect([...answers(encodeAnswer(a, zone), a.questionBytes.length)[0]!.rdata]).toEqual([127, 0, 0, 1]);
    const mx = parseQuestion(query('sender.bench.test', RR_TYPE.MX))!;
    const rdata = answers(encodeAnswer(mx, zone), mx.questionBytes.length)[0]!.rdata;
    expect(rdata.readUInt16BE(0)).toBe(10);
    expect(rdata.subarray(2).equals(Buffer.from('\x02mx\x06sender\x05bench\x04test\x00', 'latin1'))).toBe(true);
  });

  it('should answer NODATA for a known name without that type and NXDOMAIN for an unknown name', () => {
    const nodata = parseQuestion(query('sender.bench.test', RR_TYPE.AAAA))!;
    const noDataAnswer = encodeAnswer(nodata, zone);
    expect(noDataAnswer.readUInt16BE(2) & 0x000f).toBe(0);
    expect(noDataAnswer.readUInt16BE(6)).toBe(0);
    const unknown = parseQuestion(query('_dmarc.other.example', RR_TYPE.TXT))!;
    const nx = encodeAnswer(unknown, zone);
    expect(nx.readUInt16BE(2) & 0x000f).toBe(3);
    expect(nx.readUInt16BE(6)).toBe(0);
  });

  it('should not take responses or truncated packets for questions, and answer FORMERR when it can', () => {
    const response = query('sender.bench.test', RR_TYPE.TXT);
    response.writeUInt16BE(0x8100, 2);
    expect(parseQuestion(response)).toBeNull();
    const truncated = query('sender.bench.test', RR_TYPE.TXT).subarray(0, 20);
    expect(parseQuestion(truncated)).toBeNull();
    expect(encodeFormatError(truncated)!.readUInt16BE(2) & 0x000f).toBe(1);
    expect(encodeFormatError(Buffer.from([1]))).toBeNull();
  });
});
