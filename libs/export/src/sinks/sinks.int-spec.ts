import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadOrGenerateTlsKeyPair } from '@mailwarden/smtp';
import { freePort } from '@mailwarden/testing';
import { startHecReceiver, type HecReceiver } from '../../test/hec-receiver';
import { startRsyslog, type RsyslogReceiver } from '../../test/rsyslog-receiver';
import type { OcsfEvent } from '../ocsf/ocsf-mappers';
import { ExportSinkFactory } from '../export-sinks';
import { ExportSinkError } from './export-sink';
import { HecSink, WebhookSink, webhookSignature, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from './http.sinks';
import { NdjsonSink, ndjsonFolder } from './ndjson.sink';
import { SyslogSink } from './syslog.sink';

jest.setTimeout(60_000);

function events(count: number, extra: Record<string, unknown> = {}): OcsfEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    class_uid: 4009,
    severity_id: index % 5,
    time: Date.parse('2026-12-05T10:00:00.000Z') + index,
    metadata: { uid: `uid-${index}`, version: '1.8.0' },
    email: { subject: `Grüße №${index} "quoted" \n new line` },
    ...extra,
  }));
}

describe('SIEM sinks against real receivers on 127.0.0.1', () => {
  describe(HecSink.name, () => {
    let hec: HecReceiver;
    beforeAll(async () => {
      hec = await startHecReceiver();
    });
    afterAll(() => hec.close());

    it('should send one batch as concatenated HEC envelopes with the Splunk token, and fail on 503, 403 and a reset', async () => {
      const sink = new HecSink({ url: hec.url, index: 'mail', sourcetype: 'ocsf:json' }, hec.token);
      await sink.send(events(3));
      expect(hec.accepted.map((envelope) => [envelope.event.metadata, envelope.index, envelope.sourcetype, envelope.time])).toEqual([
        [{ uid: 'uid-0', version: '1.8.0' }, 'mail', 'ocsf:json', 1796464800],
        [{ uid: 'uid-1', version: '1.8.0' }, 'mail', 'ocsf:json', 1796464800.001],
        [{ uid: 'uid-2', version: '1.8.0' }, 'mail', 'ocsf:json', 1796464800.002],
      ]);
      expect((hec.accepted[1]!.event.email as { subject: string }).subject).toBe('Grüße №1 "quoted" \n new line');

      hec.mode = 'busy';
      await expect(sink.send(events(1))).rejects.toMatchObject({ name: 'ExportSinkError', status: 503, message: expect.stringContaining('Server is busy') });
      hec.mode = 'ok';
      await expect(new HecSink({ url: hec.url }, 'wrong-token').send(events(1))).rejects.toMatchObject({ status: 403, message: expect.stringContaining('code 4: Invalid token') });
      hec.mode = 'invalid-token';
      await expect(sink.send(events(1))).rejects.toBeInstanceOf(ExportSinkError);
      hec.mode = 'down';
      await expect(sink.send(events(1))).rejects.toBeInstanceOf(ExportSinkError);
      hec.mode = 'ok';
      expect(hec.accepted).toHaveLength(3);
      expect(hec.statuses).toEqual([200, 503, 403, 403]);
    });
  });

  describe(WebhookSink.name, () => {
    it('should post a JSON array signed over timestamp and body, and fail on a non-2xx answer', async () => {
      const secret = 'a-webhook-secret-of-some-length';
      const received: Array<{ verified: boolean; events: unknown[] }> = [];
      let status = 204;
      const server = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const body = Buffer.concat(chunks);
          const timestamp = String(request.headers[WEBHOOK_TIMESTAMP_HEADER]);
          received.push({ verified: request.headers[WEBHOOK_SIGNATURE_HEADER] === webhookSignature(secret, timestamp, body), events: JSON.parse(body.toString('utf8')) as unknown[] });
          response.writeHead(status).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
        await new WebhookSink({ url }, secret).send(events(2));
        await new WebhookSink({ url }, 'another-secret-entirely').send(events(1));
        status = 500;
        await expect(new WebhookSink({ url }, secret).send(events(1))).rejects.toMatchObject({ status: 500 });
        expect(received.map((entry) => [entry.verified, entry.events.length])).toEqual([
          [true, 2],
          [false, 1],
          [true, 1],
        ]);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });

  describe(SyslogSink.name, () => {
    let rsyslog: RsyslogReceiver | undefined;
    afterEach(async () => {
      await rsyslog?.close();
      rsyslog = undefined;
    });

    it('should deliver octet-counted RFC 5424 messages over TCP that rsyslog parses back event for event', async () => {
      rsyslog = await startRsyslog({ port: await freePort() });
      const big = events(1, { unmapped: { padding: 'x'.repeat(100_000) } });
      const sent = [...events(50), ...big];
      await new SyslogSink({ host: '127.0.0.1', port: rsyslog.port, hostname: 'mw-test', appName: 'mailwarden' }).send(sent);
      const records = await waitForRecords(rsyslog, sent.length);
      expect(records.map((record) => record.event)).toEqual(JSON.parse(JSON.stringify(sent)));
      expect(records[0]).toMatchObject({ version: 1, hostname: 'mw-test', appName: 'mailwarden', msgId: 'ocsf-4009', pri: 13 * 8 + 6, timestamp: '2026-12-05T10:00:00.000Z' });
      expect(records[3]!.pri).toBe(13 * 8 + 4); // severity_id 3 (Medium) → warning
    });

    it('should deliver over TLS (RFC 5425) to rsyslog with the gtls driver, and refuse a server it cannot verify', async () => {
      const pair = loadOrGenerateTlsKeyPair({ hostname: 'localhost' });
      rsyslog = await startRsyslog({ port: await freePort(), tls: { keyPem: pair.key, certPem: pair.cert } });
      const settings = { host: '127.0.0.1', port: rsyslog.port, tls: true, serverName: 'localhost', caPem: pair.cert.toString('utf8') };
      await new SyslogSink(settings).send(events(20));
      expect((await waitForRecords(rsyslog, 20)).map((record) => record.event.metadata)).toEqual(events(20).map((event) => event.metadata));
      await expect(new SyslogSink({ ...settings, caPem: undefined }).send(events(1))).rejects.toMatchObject({ name: 'ExportSinkError', message: expect.stringMatching(/certificate/i) });
    });

    it('should fail a batch when nothing listens, and deliver after rsyslog restarts', async () => {
      rsyslog = await startRsyslog({ port: await freePort() });
      await rsyslog.stop();
      const sink = new SyslogSink({ host: '127.0.0.1', port: rsyslog.port, timeoutMs: 2000 });
      await expect(sink.send(events(1))).rejects.toMatchObject({ message: expect.stringContaining('ECONNREFUSED') });
      await rsyslog.start();
      await sink.send(events(2));
      expect(await waitForRecords(rsyslog, 2)).toHaveLength(2);
    });
  });

  describe(NdjsonSink.name, () => {
    let root: string;
    beforeEach(async () => {
      root = await mkdtemp(path.join(tmpdir(), 'mw-ndjson-'));
    });
    afterEach(() => rm(root, { recursive: true, force: true }));

    it('should append one event per line and rotate by size and by time, resuming the newest file after a restart', async () => {
      let now = Date.parse('2026-12-05T10:00:00.000Z');
      const clock = () => now;
      const line = Buffer.byteLength(`${JSON.stringify(events(1)[0])}\n`);
      const sink = new NdjsonSink(root, { folder: 'lake', maxBytes: line * 5, maxAgeSeconds: 60 }, clock);
      await sink.send(events(3));
      await sink.send(events(2)); // exactly 5 lines: still the first file
      await sink.send(events(1)); // would exceed maxBytes: a new file
      now += 61_000;
      // A new process (new sink) continues the newest file, which is too old by now: a third file.
      await new NdjsonSink(root, { folder: 'lake', maxBytes: line * 5, maxAgeSeconds: 60 }, clock).send(events(2));
      const files = (await readdir(path.join(root, 'lake'))).sort();
      expect(files).toEqual(['ocsf-20261205T100000000Z-000001.ndjson', 'ocsf-20261205T100000000Z-000002.ndjson', 'ocsf-20261205T100101000Z-000003.ndjson']);
      const lines = await Promise.all(files.map(async (file) => (await readFile(path.join(root, 'lake', file), 'utf8')).split('\n').filter(Boolean).map((text) => JSON.parse(text) as OcsfEvent)));
      expect(lines.map((list) => list.length)).toEqual([5, 1, 2]);
      now += 1000;
      await new NdjsonSink(root, { folder: 'lake', maxBytes: line * 5, maxAgeSeconds: 60 }, clock).send(events(1));
      expect((await readdir(path.join(root, 'lake'))).length).toBe(3);
    });

    it("should write each owner's files under its own id, so two tenants naming the same folder never share it", async () => {
      const factory = new ExportSinkFactory(Buffer.alloc(32, 1).toString('base64'), root);
      const tenant = (accountId: string) => ({ id: `d-${accountId}`, kind: 'NDJSON' as const, settings: { folder: 'lake' }, encryptedCredentials: null, accountId, partnerId: null });
      await factory.build(tenant('account-a')).send(events(2));
      await factory.build(tenant('account-b')).send(events(1));
      await factory.build({ ...tenant('x'), accountId: null, partnerId: 'partner-p' }).send(events(1));
      const count = async (owner: string) => (await readdir(path.join(root, owner, 'lake'))).length;
      expect([await count('account-a'), await count('account-b'), await count('partner-p')]).toEqual([1, 1, 1]);
      const lines = async (owner: string) => (await readFile(path.join(root, owner, 'lake', (await readdir(path.join(root, owner, 'lake')))[0]!), 'utf8')).split('\n').filter(Boolean).length;
      expect([await lines('account-a'), await lines('account-b')]).toEqual([2, 1]);
    });

    it('should refuse folders that leave the export root', () => {
      for (const folder of ['..', '.', '../etc', 'a/b', '/tmp', '', 'x'.repeat(65)]) {
        expect(() => ndjsonFolder(root, folder)).toThrow(RangeError);
      }
      expect(ndjsonFolder(root, 'tenant-1.lake')).toBe(path.join(root, 'tenant-1.lake'));
    });
  });
});

async function waitForRecords(rsyslog: RsyslogReceiver, count: number): Promise<Awaited<ReturnType<RsyslogReceiver['records']>>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const records = await rsyslog.records();
    if (records.length >= count || Date.now() > deadline) {
      return records;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
