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
