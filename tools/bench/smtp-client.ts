import { connect, type Socket } from 'node:net';

export interface SmtpReply {
  code: number;
  text: string;
}

/** An SMTP envelope and its DATA, already dot-stuffed and ending in CRLF.CRLF (see {@link toDataPayload}). */
export interface SmtpJob {
  from: string;
  to: string[];
  payload: Buffer;
}

/** RFC 5321 4.5.2: a line starting with "." gets another one; the payload then ends with the <CRLF>.<CRLF> marker. */
export function toDataPayload(message: Buffer): Buffer {
  let text = message.toString('latin1');
  if (!text.endsWith('\r\n')) {
    text += '\r\n';
  }
  return Buffer.from(`${text.replace(/^\./, '..').replace(/\r\n\./g, '\r\n..')}.\r\n`, 'latin1');
}

/** A connection error or an unexpected close, reported like a reply so the load generator can count it. */
export const CONNECTION_LOST = 0;

/**
 * A lean SMTP client on one socket (nodemailer costs too much CPU per message to load a server on the same two
 * cores): EHLO once, then transactions with MAIL/RCPT/DATA pipelined when the server offers PIPELINING
 * (RFC 2920), replies parsed straight from the socket.
 */
export class SmtpConnection {
  private buffer = '';
  private readonly waiting: Array<(reply: SmtpReply) => void> = [];
  private closed = false;
  pipelining = false;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.onClose());
    socket.on('close', () => this.onClose());
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  static async open(port: number, heloName: string): Promise<SmtpConnection> {
    const socket = connect({ port, host: '127.0.0.1' });
    const connection = new SmtpConnection(socket);
    const greeting = await connection.nextReply();
    if (greeting.code !== 220) {
      connection.close();
      throw new Error(`greeting ${greeting.code} ${greeting.text}`);
    }
    const ehlo = await connection.command(`EHLO ${heloName}`);
    if (ehlo.code !== 250) {
      connection.close();
      throw new Error(`EHLO ${ehlo.code} ${ehlo.text}`);
    }
    connection.pipelining = /^PIPELINING$/im.test(ehlo.text);
    return connection;
  }

  /** One transaction; resolves with the reply that ended it (the DATA end's, or the first refusal). */
  async send(job: SmtpJob): Promise<SmtpReply> {
    const envelope = [`MAIL FROM:<${job.from}>`, ...job.to.map((to) => `RCPT TO:<${to}>`), 'DATA'];
    let replies: SmtpReply[];
    if (this.pipelining) {
      const pending = envelope.map(() => this.nextReply());
      this.socket.write(`${envelope.join('\r\n')}\r\n`);
      replies = await Promise.all(pending);
    } else {
      replies = [];
      for (const line of envelope) {
        const reply = await this.command(line);
        replies.push(reply);
        if (reply.code >= 400 || reply.code === CONNECTION_LOST) {
          break;
        }
      }
    }
    const data = replies[replies.length - 1]!;
    if (replies.length === envelope.length && data.code === 354) {
      const final = this.nextReply();
      this.socket.write(job.payload);
      return final;
    }
    const refusal = replies.find((reply) => reply.code >= 400 || reply.code === CONNECTION_LOST) ?? data;
    if (this.isOpen && refusal.code !== CONNECTION_LOST) {
      await this.command('RSET');
    }
    return refusal;
  }

  async quit(): Promise<void> {
    if (this.isOpen) {
      await Promise.race([this.command('QUIT'), new Promise((resolve) => setTimeout(resolve, 1000))]);
    }
    this.close();
  }

  close(): void {
    this.socket.destroy();
    this.onClose();
  }

  private command(line: string): Promise<SmtpReply> {
    const reply = this.nextReply();
    this.socket.write(`${line}\r\n`);
    return reply;
  }

  private nextReply(): Promise<SmtpReply> {
    if (this.closed) {
      return Promise.resolve({ code: CONNECTION_LOST, text: 'connection closed' });
    }
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.drain();
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer += chunk.toString('latin1');
    this.drain();
  }

  /** Hands complete replies (RFC 5321 4.2: "ddd-" lines, then a "ddd " or "ddd" last line) to their waiters. */
  private drain(): void {
    while (this.waiting.length > 0) {
      let end = -1;
      let lineStart = 0;
      for (;;) {
        const newline = this.buffer.indexOf('\r\n', lineStart);
        if (newline < 0) {
          break;
        }
        if (this.buffer[lineStart + 3] !== '-') {
          end = newline + 2;
          break;
        }
        lineStart = newline + 2;
      }
      if (end < 0) {
        return;
      }
      const text = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end);
      this.waiting.shift()!({ code: Number(text.slice(0, 3)), text: text.split('\r\n').map((line) => line.slice(4)).join('\n').trim() });
    }
  }

  private onClose(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    for (const resolve of this.waiting.splice(0)) {
      resolve({ code: CONNECTION_LOST, text: 'connection closed' });
    }
  }
}
