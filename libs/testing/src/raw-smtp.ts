import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * A hand-driven SMTP client on a raw socket: it sends exactly the bytes it is given (no dot-stuffing or line-end
 * repair unless asked) and reads replies as the server writes them.
 */
export class RawSmtp {
  private buffer = '';
  private wake?: () => void;
  /** Resolves when the server (or the test) closed the connection. */
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(private socket: Socket) {
    this.read(socket);
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        this.wake?.();
        resolve();
      }),
    );
  }

  private read(socket: Socket): void {
    socket.on('data', (data: Buffer) => {
      this.buffer += data.toString('latin1');
      this.wake?.();
    });
  }

  /** STARTTLS (RFC 3207), then the session goes on over TLS (the server's certificate is not checked). */
  async startTls(): Promise<void> {
    const go = await this.command('STARTTLS');
    if (!go.startsWith('220')) throw new Error(`STARTTLS refused: ${go}`);
    this.socket.removeAllListeners('data');
    const secure = tlsConnect({ socket: this.socket, rejectUnauthorized: false });
    secure.on('error', () => undefined);
    await once(secure, 'secureConnect');
    this.socket = secure;
    this.read(secure);
  }

  /** `localAddress` picks another loopback address, i.e. another client for the per-client limits. */
  static async open(port: number, localAddress = '127.0.0.1'): Promise<{ client: RawSmtp; greeting: string }> {
    const client = new RawSmtp(connect({ port, host: '127.0.0.1', localAddress }));
    return { client, greeting: await client.reply() };
  }

  /** The next complete reply (multi-line replies joined), or '' when the connection closed first. */
  async reply(timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = /^(?:\d{3}-[^\r\n]*\r\n)*\d{3}(?: [^\r\n]*)?\r\n/.exec(this.buffer);
      if (match) {
        this.buffer = this.buffer.slice(match[0].length);
        return match[0].trimEnd();
      }
      if (this.isClosed) return '';
      if (Date.now() > deadline) throw new Error(`no reply within ${timeoutMs} ms; buffered: ${JSON.stringify(this.buffer.slice(0, 200))}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  async replies(count: number): Promise<string[]> {
    const all: string[] = [];
    while (all.length < count) {
      const next = await this.reply();
      if (next === '') break;
      all.push(next);
    }
    return all;
  }

  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  close(): void {
    this.socket.destroy();
  }
}
