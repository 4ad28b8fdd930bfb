import { dotStuff, RawSmtp } from '@mailwarden/testing';
import { SmtpFront, type SmtpFrontHandler, type SmtpFrontSettings } from './smtp-front';
import { smtpError } from './smtp-replies';

/** A handler that records what each transaction saw; recipients starting with `fail` make it throw a plain error. */
class RecordingHandler implements SmtpFrontHandler<string[]> {
  readonly received: Array<{ recipients: string[]; transaction: string[] }> = [];
  release?: () => void;

  newTransaction(): string[] {
    return [];
  }

  async acceptRecipient(address: string, transaction: string[]): Promise<void> {
    if (address.startsWith('fail')) throw new Error('database down');
    if (address.startsWith('refuse')) throw smtpError(550, '5.1.1', `<${address}>: unknown`);
    transaction.push(address);
  }

  async receiveMessage(message: { raw: Buffer; recipients: string[] }, transaction: string[]) {
    if (message.raw.includes('slow')) await new Promise<void>((resolve) => (this.release = resolve));
    if (message.raw.includes('explode')) throw new Error('storage failed');
    this.received.push({ recipients: message.recipients, transaction: [...transaction] });
    return { code: 250, enhanced: '2.0.0', text: `Stored ${transaction.length}` };
  }
}

const SETTINGS: SmtpFrontSettings = {
  banner: 'test front',
  host: '127.0.0.1',
  port: 0,
  reusePort: false,
  hostname: 'front.test',
  maxMessageSize: 64 * 1024,
  maxConnections: 20,
  maxConnectionsPerClient: 20,
  maxMessagesPerMinutePerClient: 1000,
  maxRecipients: 3,
  socketTimeoutMs: 5_000,
  drainTimeoutMs: 5_000,
  tls: {},
};

describe(SmtpFront.name, () => {
  let handler: RecordingHandler;
  let front: SmtpFront<string[]>;

  beforeEach(async () => {
    handler = new RecordingHandler();
    front = new SmtpFront({ ...SETTINGS }, handler, 'SmtpFrontTest');
    await front.listen();
  });

  afterEach(async () => {
    handler.release?.();
    await front.drain();
  });

  async function transaction(session: RawSmtp, recipients: string[], body: string): Promise<string[]> {
    const replies = [await session.command('MAIL FROM:<a@sender.test>')];
    for (const recipient of recipients) replies.push(await session.command(`RCPT TO:<${recipient}>`));
    replies.push(await session.command('DATA'));
    if (!replies[replies.length - 1]!.startsWith('354')) return replies;
    session.write(dotStuff(Buffer.from(`Subject: t\r\n\r\n${body}\r\n`)));
    replies.push(await session.command('.'));
    return replies;
  }

  it('should give every transaction fresh state, after a 250 and after a refused DATA alike', async () => {
    const { client: session } = await RawSmtp.open(front.port);
    try {
      await session.command('EHLO client.test');
      expect((await transaction(session, ['one@a.test'], 'explode')).pop()).toMatch(/^451 4\.3\.0 /);
      expect((await transaction(session, ['two@a.test'], 'hello')).pop()).toMatch(/^250 2\.0\.0 Stored 1$/);
      expect((await transaction(session, ['three@a.test'], 'hello')).pop()).toMatch(/^250 2\.0\.0 Stored 1$/);
    } finally {
      session.close();
    }
    expect(handler.received.map((entry) => entry.transaction)).toEqual([['two@a.test'], ['three@a.test']]);
  });

  it('should answer 451 4.3.0 when a hook fails, pass its SmtpReplyError on, and keep the session usable', async () => {
    const { client: session } = await RawSmtp.open(front.port);
    try {
      await session.command('EHLO client.test');
      expect(await session.command('MAIL FROM:<a@sender.test>')).toMatch(/^250/);
      expect(await session.command('RCPT TO:<fail@a.test>')).toMatch(/^451 4\.3\.0 /);
      expect(await session.command('RCPT TO:<refuse@a.test>')).toMatch(/^550 5\.1\.1 /);
      expect(await session.command('RCPT TO:<ok@a.test>')).toMatch(/^250/);
    } finally {
      session.close();
    }
  });

  it('should answer a flood of pipelined commands in one input, every one in order, then take a message', async () => {
    const { client: session } = await RawSmtp.open(front.port);
    try {
      await session.command('EHLO client.test');
      // One write: 2,000 RSET/NOOP, then a pipelined transaction (its replies are held and sent with DATA's 354).
      const flood = Array.from({ length: 2_000 }, (_, i) => (i % 2 === 0 ? 'RSET' : 'NOOP'));
      session.write(`${[...flood, 'MAIL FROM:<a@sender.test>', 'RCPT TO:<one@a.test>', 'DATA'].join('\r\n')}\r\n`);
      const replies = await session.replies(flood.length + 3);
      expect(replies.slice(0, flood.length).every((reply) => reply.startsWith('250'))).toBe(true);
      expect(replies.slice(flood.length).map((reply) => reply.slice(0, 3))).toEqual(['250', '250', '354']);
      session.write(dotStuff(Buffer.from('Subject: t\r\n\r\nhello\r\n')));
      expect(await session.command('.')).toMatch(/^250 2\.0\.0 Stored 1$/);
    } finally {
      session.close();
    }
    expect(handler.received.map((entry) => entry.transaction)).toEqual([['one@a.test']]);
  });

  it('should send the held reply to MAIL before the 220 of a STARTTLS pipelined behind it, and nothing after it in plaintext', async () => {
    const { client: session } = await RawSmtp.open(front.port);
    try {
      await session.command('EHLO client.test');
      // RFC 3207: STARTTLS must end a group; what follows it in plaintext is dropped, never answered.
      session.write('MAIL FROM:<a@sender.test>\r\nSTARTTLS\r\nRCPT TO:<injected@a.test>\r\n');
      expect((await session.replies(2)).map((reply) => reply.slice(0, 3))).toEqual(['250', '220']);
      await expect(session.reply(1_000)).rejects.toThrow(/no reply within/);
    } finally {
      session.close();
    }
  });

  it('should take a repeated recipient at the limit and answer 452 4.5.3 to one more', async () => {
    const { client: session } = await RawSmtp.open(front.port);
    try {
      await session.command('EHLO client.test');
      const replies = await transaction(session, ['r1@a.test', 'r2@a.test', 'r3@a.test', 'R1@a.test', 'r4@a.test'], 'hello');
      expect(replies.map((reply) => reply.slice(0, 9))).toEqual(['250 Accep', '250 Accep', '250 Accep', '250 Accep', '250 Accep', '452 4.5.3', '354 End d', '250 2.0.0']);
    } finally {
      session.close();
    }
    expect(handler.received[0]!.recipients).toHaveLength(3);
  });

  it('should let a message in DATA finish on drain while new sessions get 421 4.3.2', async () => {
    const { client: session } = await RawSmtp.open(front.port);
    await session.command('EHLO client.test');
    const pending = transaction(session, ['slow@a.test'], 'slow');
    while (!handler.release) await new Promise((resolve) => setTimeout(resolve, 20));
    const drained = front.drain();
    const { client: late, greeting } = await RawSmtp.open(front.port);
    late.close();
    expect(greeting).toMatch(/^421 4\.3\.2 /);
    handler.release();
    expect((await pending).pop()).toMatch(/^250 2\.0\.0 /);
    session.close();
    await drained;
  });
});

/**
 * Issue 20: several processes of one app on one host share the SMTP port (SO_REUSEPORT). Two fronts in this process
 * stand for them: the kernel spreads connections over listening sockets alike whether they are in one process or two.
 */
describe(`${SmtpFront.name} sharing its port (SMTP_REUSE_PORT)`, () => {
  const fronts: Array<SmtpFront<string[]>> = [];
  const handlers: RecordingHandler[] = [];

  async function start(banner: string, settings: Partial<SmtpFrontSettings>): Promise<SmtpFront<string[]>> {
    const handler = new RecordingHandler();
    const front = new SmtpFront({ ...SETTINGS, banner, ...settings }, handler, 'SmtpFrontTest');
    await front.listen();
    fronts.push(front);
    handlers.push(handler);
    return front;
  }

  afterEach(async () => {
    for (const handler of handlers) handler.release?.();
    await Promise.all(fronts.map((front) => front.drain()));
    fronts.length = 0;
    handlers.length = 0;
  });

  /** One connection sending `messages` messages; resolves with the greeting's banner and the final replies. */
  async function connection(port: number, messages: number): Promise<{ greeting: string; replies: string[] }> {
    const { client: session, greeting } = await RawSmtp.open(port);
    const replies: string[] = [];
    try {
      await session.command('EHLO client.test');
      for (let index = 0; index < messages; index++) {
        await session.command('MAIL FROM:<a@sender.test>');
        await session.command(`RCPT TO:<n${index}@a.test>`);
        await session.command('DATA');
        session.write(dotStuff(Buffer.from(`Subject: t\r\n\r\nmessage ${index}\r\n`)));
        replies.push(await session.command('.'));
      }
      await session.command('QUIT');
    } finally {
      session.close();
    }
    return { greeting, replies };
  }

  it('should let two fronts listen on one port and take every message exactly once between them', async () => {
    const first = await start('front A', { reusePort: true });
    await start('front B', { reusePort: true, port: first.port });
    // 16 connections: the kernel hashes each to one listener, so a one-sided split has odds of 2 in 65,536.
    const results = await Promise.all(Array.from({ length: 16 }, () => connection(first.port, 5)));
    expect(results.flatMap((result) => result.replies).every((reply) => /^250 2\.0\.0 /.test(reply))).toBe(true);
    const [a, b] = handlers.map((handler) => handler.received.length);
    expect(a! + b!).toBe(80);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    // A connection's messages all go to the process that accepted it.
    for (const { greeting } of results) expect(greeting).toMatch(/ESMTP front [AB]$|front [AB]/);
    expect(results.filter((result) => result.greeting.includes('front A')).length * 5).toBe(a);
  });

  it('should refuse a second listener on a used port without the setting, naming the port and the setting', async () => {
    const first = await start('front A', { reusePort: false });
    const second = new SmtpFront({ ...SETTINGS, port: first.port }, new RecordingHandler(), 'SmtpFrontTest');
    await expect(second.listen()).rejects.toThrow(`SMTP port 127.0.0.1:${first.port} is already in use: stop the other listener, choose another port, or set SMTP_REUSE_PORT=true`);
    await expect(second.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it('should refuse to share a port whose listener did not set it, even with the setting on', async () => {
    const first = await start('front A', { reusePort: false });
    const second = new SmtpFront({ ...SETTINGS, port: first.port, reusePort: true }, new RecordingHandler(), 'SmtpFrontTest');
    await expect(second.listen()).rejects.toThrow(`SMTP port 127.0.0.1:${first.port} is already in use: the listener there does not use SO_REUSEPORT`);
  });

  it('should hand new connections to the other front while one drains, and let the drained one finish its message', async () => {
    const first = await start('front A', { reusePort: true });
    await start('front B', { reusePort: true, port: first.port });
    // A connection that landed on A, with a message held in DATA.
    let onA: RawSmtp | undefined;
    const elsewhere: RawSmtp[] = [];
    while (!onA) {
      const { client, greeting } = await RawSmtp.open(first.port);
      if (greeting.includes('front A')) onA = client;
      else elsewhere.push(client);
    }
    elsewhere.forEach((client) => client.close());
    await onA.command('EHLO client.test');
    await onA.command('MAIL FROM:<a@sender.test>');
    await onA.command('RCPT TO:<slow@a.test>');
    await onA.command('DATA');
    onA.write(dotStuff(Buffer.from('Subject: t\r\n\r\nslow\r\n')));
    const held = onA.command('.');
    while (!handlers[0]!.release) await new Promise((resolve) => setTimeout(resolve, 20));

    const drained = fronts[0]!.drain();
    const results = await Promise.all(Array.from({ length: 16 }, () => connection(first.port, 2)));
    expect(results.map((result) => result.greeting.includes('front B'))).toEqual(Array(16).fill(true));
    expect(results.flatMap((result) => result.replies).every((reply) => /^250 2\.0\.0 /.test(reply))).toBe(true);
    expect(handlers[1]!.received).toHaveLength(32);

    handlers[0]!.release!();
    expect(await held).toMatch(/^250 2\.0\.0 /);
    onA.close();
    await drained;
    expect(handlers[0]!.received).toHaveLength(1);
  });
});
