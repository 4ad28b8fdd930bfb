import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { batchPipelinedReplies, type SmtpConnectionInternals } from './smtp-connections';

/**
 * A stand-in for smtp-server's connection on a real loopback socket pair: `send` writes the reply the way
 * SMTPConnection.send does (one socket.write per reply), `_onCommand` answers after `delay` (sync, a promise
 * continuation or a timer) and records whether the socket was corked when the command came in.
 */
function fakeConnection(socket: Socket, delay: 'sync' | 'microtask' | 'timer' = 'sync') {
  const corkedAtCommand: Array<[string, number]> = [];
  const connection: SmtpConnectionInternals = {
    _socket: socket,
    send(code: number, text = 'ok') {
      socket.write(`${code} ${String(text)}\r\n`);
    },
    _onCommand(line) {
      const verb = String(line).split(' ')[0]!;
      corkedAtCommand.push([verb, socket.writableCorked]);
      const reply = () => connection.send(verb === 'DATA' ? 354 : verb === 'STARTTLS' ? 220 : 250, verb);
      if (delay === 'sync') reply();
      else if (delay === 'microtask') void Promise.resolve().then(reply);
      else setTimeout(reply, 5);
    },
  };
  batchPipelinedReplies(connection);
  return { connection, corkedAtCommand };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('batchPipelinedReplies', () => {
  let server: Server;
  let serverSide: Socket;
  let clientSide: Socket;
  let received: string;

  beforeEach(async () => {
    server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection');
    clientSide = connect((server.address() as AddressInfo).port, '127.0.0.1');
    serverSide = (await accepted)[0] as Socket;
    received = '';
    clientSide.on('data', (chunk: Buffer) => (received += chunk.toString()));
  });

  afterEach(async () => {
    clientSide.destroy();
    serverSide.destroy();
    server.close();
    await once(server, 'close');
  });

  const receivedUntil = async (text: string) => {
    for (let i = 0; i < 200 && !received.includes(text); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    return received;
  };

  it('holds the replies to MAIL and RCPT of one pipelined input and sends them with the reply to DATA, in one write', async () => {
    const { connection } = fakeConnection(serverSide, 'microtask');
    connection._onCommand('MAIL FROM:<a@example.test>');
    connection._onCommand('RCPT TO:<b@example.test>');
    await Promise.resolve();
    // Both replies are written (the handlers' promise continuations ran) but still held in one buffer.
    expect(serverSide.writableCorked).toBe(1);
    expect(serverSide.writableLength).toBe('250 MAIL\r\n250 RCPT\r\n'.length);
    connection._onCommand('DATA');
    await Promise.resolve();
    // DATA ends the group: its reply leaves with the held ones at once, not a turn later.
    expect(serverSide.writableCorked).toBe(0);
    expect(await receivedUntil('354 DATA')).toBe('250 MAIL\r\n250 RCPT\r\n354 DATA\r\n');
  });

  it('sends a group without DATA (RSET, NOOP, a MAIL alone) at the end of the turn', async () => {
    const { connection } = fakeConnection(serverSide, 'microtask');
    connection._onCommand('RSET');
    connection._onCommand('NOOP');
    connection._onCommand('MAIL FROM:<a@example.test>');
    await Promise.resolve();
    expect(serverSide.writableCorked).toBe(1);
    await nextTurn();
    expect(serverSide.writableCorked).toBe(0);
    expect(await receivedUntil('250 MAIL')).toBe('250 RSET\r\n250 NOOP\r\n250 MAIL\r\n');
  });

  it('never holds a reply across STARTTLS, EHLO or QUIT: what was held leaves first, the command runs uncorked', async () => {
    for (const verb of ['STARTTLS', 'EHLO client.test', 'QUIT']) {
      const { connection, corkedAtCommand } = fakeConnection(serverSide);
      connection._onCommand('MAIL FROM:<a@example.test>');
      connection._onCommand(verb);
      expect(corkedAtCommand).toEqual([
        ['MAIL', 1],
        [verb.split(' ')[0], 0],
      ]);
      expect(serverSide.writableCorked).toBe(0);
      await nextTurn();
      expect(serverSide.writableCorked).toBe(0);
    }
    expect(await receivedUntil('250 QUIT')).toBe('250 MAIL\r\n220 STARTTLS\r\n250 MAIL\r\n250 EHLO\r\n250 MAIL\r\n250 QUIT\r\n');
  });

  it('sends a reply that comes after the turn (a handler waiting on I/O) at once, and corks again for the next input', async () => {
    const { connection } = fakeConnection(serverSide, 'timer');
    connection._onCommand('MAIL FROM:<a@example.test>');
    await nextTurn();
    expect(serverSide.writableCorked).toBe(0);
    expect(await receivedUntil('250 MAIL')).toBe('250 MAIL\r\n');
    connection._onCommand('RCPT TO:<b@example.test>');
    expect(serverSide.writableCorked).toBe(1);
    await nextTurn();
    expect(serverSide.writableCorked).toBe(0);
    expect(await receivedUntil('250 RCPT')).toBe('250 MAIL\r\n250 RCPT\r\n');
  });

  it('loses nothing when the socket is ended while replies are held, and the later uncork is harmless', async () => {
    const { connection } = fakeConnection(serverSide);
    connection._onCommand('MAIL FROM:<a@example.test>');
    serverSide.end('421 closing\r\n');
    await nextTurn();
    expect(await receivedUntil('421 closing')).toBe('250 MAIL\r\n421 closing\r\n');
  });

  it('does not cork a destroyed socket', async () => {
    const { connection, corkedAtCommand } = fakeConnection(serverSide);
    serverSide.destroy();
    connection._onCommand('NOOP');
    expect(corkedAtCommand).toEqual([['NOOP', 0]]);
    await nextTurn();
  });
});
