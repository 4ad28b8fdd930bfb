import Mail from 'nodemailer/lib/mailer';
import { SMTPServer } from 'smtp-server';
import { freePort } from '@mailwarden/testing';
import { DownstreamConnections, relayMessage } from './smtp-relay';

/** The relay against a real smtp-server on 127.0.0.1: connections to a downstream are reused, and closed when idle. */
describe('relayMessage with DownstreamConnections', () => {
  let server: SMTPServer;
  let port: number;
  let connections = 0;
  let received: string[] = [];
  let bodies: Buffer[] = [];

  beforeAll(async () => {
    port = await freePort();
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onConnect(_session, callback) {
        connections++;
        callback();
      },
      onRcptTo(address, _session, callback) {
        callback(address.address.startsWith('refused') ? Object.assign(new Error('no such user'), { responseCode: 550 }) : undefined);
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          received.push(session.envelope.rcptTo.map((rcpt) => rcpt.address).join(','));
          bodies.push(Buffer.concat(chunks));
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  });

  beforeEach(() => {
    connections = 0;
    received = [];
    bodies = [];
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const route = () => ({ host: '127.0.0.1', port, requireTls: false, verifyCert: false });
  const message = (index: number) => ({ from: 'alice@partner.example', to: [`bob${index}@customer.example`], raw: Buffer.from(`Subject: ${index}\r\n\r\nHello\r\n`) });

  it('should deliver one copy after another over one open connection', async () => {
    const pool = new DownstreamConnections({ name: 'mw.test', timeoutMs: 5_000, connectionsPerRoute: 4, idleMs: 60_000 });
    try {
      for (let index = 0; index < 5; index++) {
        expect(await relayMessage(route(), message(index), { name: 'mw.test', timeoutMs: 5_000, connections: pool })).toEqual({ accepted: [`bob${index}@customer.example`], failed: [], reply: expect.stringMatching(/^250 /) });
      }
      expect(received).toHaveLength(5);
      expect(connections).toBe(1);
    } finally {
      pool.close();
    }
  });

  it('should relay the prepared copy byte for byte, without composing it again (no Mailer.sendMail per copy)', async () => {
    const sendMail = jest.spyOn(Mail.prototype, 'sendMail');
    const pool = new DownstreamConnections({ name: 'mw.test', timeoutMs: 5_000, connectionsPerRoute: 4, idleMs: 60_000 });
    // Lines that begin with a dot (stuffed on the wire, unstuffed by the receiver), 8-bit bytes, a long line.
    const raw = Buffer.concat([Buffer.from('Subject: dots\r\nMessage-ID: <dots@partner.example>\r\n\r\n.\r\n..two\r\n.\r\nend\r\n'), Buffer.from([0xe9, 0x0d, 0x0a]), Buffer.alloc(3000, 0x61), Buffer.from('\r\n')]);
    try {
      expect(await relayMessage(route(), { from: 'alice@partner.example', to: ['bob@customer.example', 'refused@customer.example'], raw }, { name: 'mw.test', timeoutMs: 5_000, connections: pool })).toEqual({
        accepted: ['bob@customer.example'],
        failed: [{ recipient: 'refused@customer.example', error: expect.stringMatching(/^550 /), permanent: true }],
        reply: expect.stringMatching(/^250 /),
      });
      expect(await relayMessage(route(), { from: 'alice@partner.example', to: ['refused@customer.example'], raw }, { name: 'mw.test', timeoutMs: 5_000, connections: pool })).toEqual({
        accepted: [],
        failed: [{ recipient: 'refused@customer.example', error: expect.stringMatching(/^550 /), permanent: true }],
      });
      // Without a pool (a connection of its own) too.
      await relayMessage(route(), { from: 'alice@partner.example', to: ['carol@customer.example'], raw }, { name: 'mw.test', timeoutMs: 5_000 });
      expect(received).toEqual(['bob@customer.example', 'carol@customer.example']);
      expect(bodies.map((body) => body.toString('latin1'))).toEqual([raw.toString('latin1'), raw.toString('latin1')]);
      expect(sendMail).not.toHaveBeenCalled();
    } finally {
      pool.close();
      sendMail.mockRestore();
    }
  });

  it('should open a new connection once an idle one was closed', async () => {
    const pool = new DownstreamConnections({ name: 'mw.test', timeoutMs: 5_000, connectionsPerRoute: 4, idleMs: 60_000 });
    try {
      await relayMessage(route(), message(1), { name: 'mw.test', timeoutMs: 5_000, connections: pool });
      pool.closeIdle(Date.now() + 60_000);
      await relayMessage(route(), message(2), { name: 'mw.test', timeoutMs: 5_000, connections: pool });
      expect(received).toHaveLength(2);
      expect(connections).toBe(2);
    } finally {
      pool.close();
    }
  });

  it('should report a refused connection as temporary for every recipient', async () => {
    const pool = new DownstreamConnections({ name: 'mw.test', timeoutMs: 2_000, connectionsPerRoute: 4, idleMs: 60_000 });
    try {
      const closed = { ...route(), port: await freePort() };
      const result = await relayMessage(closed, message(1), { name: 'mw.test', timeoutMs: 2_000, connections: pool });
      expect(result.accepted).toEqual([]);
      expect(result.failed).toEqual([expect.objectContaining({ recipient: 'bob1@customer.example', permanent: false })]);
    } finally {
      pool.close();
    }
  });
});
