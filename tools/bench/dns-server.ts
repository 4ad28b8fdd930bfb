import { createSocket, type Socket } from 'node:dgram';
import { encodeAnswer, encodeFormatError, parseQuestion, type Zone } from './dns-wire';

/**
 * The benchmark's own authoritative DNS on 127.0.0.1 (UDP): the sender domain's SPF, DMARC and DKIM key, so the
 * sender checks do real lookups over the wire without touching the internet or the machine's resolver.
 */
export class BenchDnsServer {
  queries = 0;
  private socket?: Socket;

  constructor(private readonly zone: Zone) {}

  async start(): Promise<number> {
    const socket = createSocket('udp4');
    this.socket = socket;
    socket.on('message', (packet, remote) => {
      this.queries++;
      const question = parseQuestion(packet);
      const answer = question ? encodeAnswer(question, this.zone) : encodeFormatError(packet);
      if (answer) {
        socket.send(answer, remote.port, remote.address);
      }
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return socket.address().port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.socket ? this.socket.close(() => resolve()) : resolve()));
    this.socket = undefined;
  }
}
