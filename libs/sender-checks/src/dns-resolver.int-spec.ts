import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { CachingDnsResolver, createSystemDnsLookup } from './dns-resolver';

/**
 * A minimal authoritative DNS server on 127.0.0.1 (RFC 1035 wire format over UDP) so the system
 * lookup (node:dns / c-ares) is exercised for real: TTLs, NXDOMAIN, NODATA and a server that never answers.
 */
type Zone = Record<string, { A?: { address: string; ttl: number }[]; TXT?: { strings: string[]; ttl: number }[]; silent?: boolean }>;

function startDnsServer(zone: Zone): Promise<{ socket: Socket; port: number; queries: string[] }> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (query, peer) => {
    const labels: string[] = [];
    let offset = 12;
    while (query[offset] !== 0) {
      labels.push(query.subarray(offset + 1, offset + 1 + query[offset]).toString('ascii'));
      offset += query[offset] + 1;
    }
    const questionEnd = offset + 5;
    const qtype = query.readUInt16BE(offset + 1);
    const name = labels.join('.').toLowerCase();
    const type = qtype === 1 ? 'A' : qtype === 16 ? 'TXT' : String(qtype);
    queries.push(`${type} ${name}`);
    const entry = zone[name];
    if (entry?.silent) {
      return;
    }
    const answers: Buffer[] = [];
    for (const a of (type === 'A' ? entry?.A : undefined) ?? []) {
      answers.push(resourceRecord(1, a.ttl, Buffer.from(a.address.split('.').map(Number))));
    }
    for (const t of (type === 'TXT' ? entry?.TXT : undefined) ?? []) {
      answers.push(resourceRecord(16, t.ttl, Buffer.concat(t.strings.map((s) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)])))));
    }
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    header.writeUInt16BE(entry ? 0x8180 : 0x8183, 2); // response, RD, RA; rcode 3 = NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    socket.send(Buffer.concat([header, query.subarray(12, questionEnd), ...answers]), peer.port, peer.address);
  });
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve({ socket, port: (socket.address() as AddressInfo).port, queries })));
}

function resourceRecord(type: number, ttl: number, rdata: Buffer): Buffer {
  const fixed = Buffer.alloc(12);
  fixed.writeUInt16BE(0xc00c, 0); // name: pointer to the question
  fixed.writeUInt16BE(type, 2);
  fixed.writeUInt16BE(1, 4); // class IN
  fixed.writeUInt32BE(ttl, 6);
  fixed.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([fixed, rdata]);
}

describe(createSystemDnsLookup.name, () => {
  let server: Awaited<ReturnType<typeof startDnsServer>>;
  let clock: number;

  beforeAll(async () => {
    server = await startDnsServer({
      'mx.sender.example': { A: [{ address: '192.0.2.10', ttl: 120 }, { address: '192.0.2.11', ttl: 30 }] },
      'sender.example': { TXT: [{ strings: ['v=spf1 ', 'ip4:192.0.2.10 -all'], ttl: 3600 }] },
      'nodata.sender.example': {},
      'slow.sender.example': { silent: true },
    });
  });

  afterAll(() => new Promise<void>((resolve) => server.socket.close(() => resolve())));

  beforeEach(() => {
    clock = 5_000_000;
    server.queries.length = 0;
  });

  const resolver = (options: { timeoutMs?: number; defaultTtlSeconds?: number } = {}) =>
    new CachingDnsResolver({
      lookup: createSystemDnsLookup({ timeoutMs: options.timeoutMs ?? 2000, servers: [`127.0.0.1:${server.port}`] }),
      timeoutMs: options.timeoutMs ?? 2000,
      defaultTtlSeconds: options.defaultTtlSeconds,
      now: () => clock,
    });

  it('should keep A answers for their smallest TTL, read from the wire', async () => {
    const dns = resolver();
    expect(await dns.resolve('mx.sender.example', 'A')).toEqual(['192.0.2.10', '192.0.2.11']);
    clock += 29_000;
    await dns.resolve('mx.sender.example', 'A');
    expect(server.queries).toEqual(['A mx.sender.example']);
    clock += 2_000;
    await dns.resolve('mx.sender.example', 'A');
    expect(server.queries).toEqual(['A mx.sender.example', 'A mx.sender.example']);
  });

  it('should answer TXT as character-strings and keep them for the default TTL', async () => {
    const dns = resolver({ defaultTtlSeconds: 10 });
    expect(await dns.resolve('sender.example', 'TXT')).toEqual([['v=spf1 ', 'ip4:192.0.2.10 -all']]);
    clock += 11_000;
    await dns.resolve('sender.example', 'TXT');
    expect(server.queries).toEqual(['TXT sender.example', 'TXT sender.example']);
  });

  it('should report NXDOMAIN as ENOTFOUND and NODATA as ENODATA, and cache both', async () => {
    const dns = resolver();
    await expect(dns.resolve('_dmarc.nowhere.example', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(dns.resolve('nodata.sender.example', 'TXT')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(dns.resolve('_dmarc.nowhere.example', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(server.queries).toEqual(['TXT _dmarc.nowhere.example', 'TXT nodata.sender.example']);
  });

  it('should time out a server that does not answer with ETIMEOUT, and ask again next time', async () => {
    const dns = resolver({ timeoutMs: 300 });
    const started = Date.now();
    await expect(dns.resolve('slow.sender.example', 'TXT')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(dns.resolve('slow.sender.example', 'TXT')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(server.queries.filter((q) => q === 'TXT slow.sender.example').length).toBeGreaterThanOrEqual(2);
  });
});
