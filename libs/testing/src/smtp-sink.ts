import { SMTPServer } from 'smtp-server';

export interface SinkMessage {
  from: string;
  to: string[];
  raw: Buffer;
}

/** The downstream: a local SMTP server (STARTTLS with smtp-server's self-signed certificate) that records what it gets. */
export class SmtpSink {
  readonly received: SinkMessage[] = [];
  readonly rejectRecipients = new Set<string>();
  port = 0;
  /** While set, a received message's end of data is answered only once it settles (a delivery held in flight). */
  hold: Promise<void> | null = null;
  /** Messages whose data arrived and wait for {@link hold} (not in `received` yet). */
  held = 0;
  /** With `discardAbandoned`: held messages dropped because their client had gone when the hold settled. */
  abandoned = 0;
  private readonly closedSessions = new Set<string>();
  private server?: SMTPServer;

  /**
   * `maxSize`: the SIZE it announces and enforces (smtp-server's default: none). `discardAbandoned`: a held message
   * whose client went away (a sender killed) before the hold settled is dropped, not received, as by a downstream
   * that commits a message only when it replies to its data (otherwise the dead sender's copy counts as received
   * although the sender never saw the reply, and its retry makes a second one).
   */
  constructor(private readonly options: { noStartTls?: boolean; maxSize?: number; discardAbandoned?: boolean } = {}) {}

  async start(port = 0): Promise<number> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: this.options.noStartTls ? ['AUTH', 'STARTTLS'] : ['AUTH'],
      disableReverseLookup: true,
      logger: false,
      ...(this.options.maxSize ? { size: this.options.maxSize } : {}),
      onRcptTo: (address, _session, callback) =>
        this.rejectRecipients.has(address.address.toLowerCase()) ? callback(Object.assign(new Error('5.1.1 No such user here'), { responseCode: 550 })) : callback(),
      onClose: (session) => {
        if (this.options.discardAbandoned) {
          this.closedSessions.add(session.id);
        }
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const accept = () => {
            this.received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((rcpt) => rcpt.address), raw: Buffer.concat(chunks) });
            callback();
          };
          if (!this.hold) {
            return accept();
          }
          this.held++;
          void this.hold.then(() => {
            this.held--;
            if (this.closedSessions.has(session.id)) {
              this.abandoned++;
              return callback();
            }
            accept();
          });
        });
      },
    });
    this.server.on('error', () => undefined);
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as { port: number }).port;
    return this.port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  to(recipient: string): SinkMessage[] {
    return this.received.filter((message) => message.to.includes(recipient));
  }
}
