import { createSocket, type Socket } from 'node:dgram';
import { encodeAnswer, encodeFormatError, parseQuestion, type Zone } from './dns-wire';

/**
 * A small authoritative DNS on 127.0.0.1 (UDP) answering from a zone, so the code under test (node:dns with
 * `DNS_SERVERS`) does real lookups over the wire without touching the internet or the machine's resolver. The zone
 * object is read on every query: tests change records by changing it. An empty zone answers NXDOMAIN to everything.
 */
export class DnsTestServer {
  queries = 0;
  /** `TYPE name` of every question received, in order (type as its number, e.g. `16 example.org`). */
  readonly questions: string[] = [];
  private socket?: Socket;

  constructor(readonly zone: Zone = {}) {}

  /** Binds a UDP port on 127.0.0.1 (a free one, or `port`: to come back where it was after `stop`) and returns it. */
  async start(port = 0): Promise<number> {
    const socket = createSocket('udp4');
    this.socket = socket;
    socket.on('message', (packet, remote) => {
      this.queries++;
      const question = parseQuestion(packet);
      if (question) {
        this.questions.push(`${question.type} ${question.name}`);
      }
      const answer = question ? encodeAnswer(question, this.zone) : encodeFormatError(packet);
      if (answer) {
        socket.send(answer, remote.port, remote.address);
      }
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, '127.0.0.1', () => resolve());
    });
    return socket.address().port;
  }

  /** `127.0.0.1:<port>`, the `DNS_SERVERS` value pointing at this server (after start). */
  get server(): string {
    return `127.0.0.1:${this.socket!.address().port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.socket ? this.socket.close(() => resolve()) : resolve()));
    this.socket = undefined;
  }
}
