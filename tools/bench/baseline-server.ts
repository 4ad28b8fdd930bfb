import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { authenticate } from 'mailauth';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { CachingDnsResolver, createSystemDnsLookup } from '@mailwarden/sender-checks';

/**
 * A bare smtp-server, the benchmark's baselines (run as its own process, as the apps are):
 * - discard: reads and drops each message (the ceiling of Node SMTP here; also the gateway's downstream sink);
 * - fsync: writes each message to its own file and fsyncs it before the 250 (the cost of durability alone);
 * - mailauth: runs mailauth's authenticate (DKIM, SPF, ARC, DMARC) before the 250 (the cost of the checks alone),
 *   against the bench DNS through the same caching resolver the scanner uses.
 * Usage: baseline-server.js <discard|fsync|mailauth> <port> [--dns ip:port] [--dir path]; prints "ready" when listening.
 */
type Kind = 'discard' | 'fsync' | 'mailauth';

function readMessage(stream: SMTPServerDataStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

function handlerFor(kind: Kind, options: { dns?: string; dir?: string }): (message: Buffer, session: SMTPServerSession) => Promise<void> {
  switch (kind) {
    case 'discard':
      return async () => undefined;
    case 'fsync': {
      const dir = options.dir ?? path.join(process.cwd(), 'bench-baseline-spool');
      mkdirSync(dir, { recursive: true });
      let sequence = 0;
      return async (message) => {
        const file = await open(path.join(dir, `${process.pid}-${sequence++}.eml`), 'w');
        try {
          await file.writeFile(message);
          await file.sync();
        } finally {
          await file.close();
        }
      };
    }
    case 'mailauth': {
      const resolver = new CachingDnsResolver({ timeoutMs: 2000, lookup: createSystemDnsLookup({ timeoutMs: 2000, servers: options.dns ? [options.dns] : [] }) });
      return async (message, session) => {
        await authenticate(message, {
          ip: session.remoteAddress,
          helo: session.hostNameAppearsAs,
          sender: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          mta: 'baseline.bench.test',
          resolver: resolver.resolve as never,
        });
      };
    }
  }
}

function main(argv: string[]): void {
  const [kind, port] = argv as [Kind, string];
  if (!['discard', 'fsync', 'mailauth'].includes(kind) || !Number(port)) {
    throw new Error('usage: baseline-server.js <discard|fsync|mailauth> <port> [--dns ip:port] [--dir path]');
  }
  const option = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const handle = handlerFor(kind, { dns: option('--dns'), dir: option('--dir') });
  const server = new SMTPServer({
    name: `baseline-${kind}.bench.test`,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    maxClients: 1000,
    onData: (stream, session, callback) => {
      readMessage(stream)
        .then((message) => handle(message, session))
        .then(() => callback(), (error: Error) => callback(Object.assign(new Error(`4.3.0 ${error.message}`), { responseCode: 451 })));
    },
  });
  server.on('error', () => undefined);
  server.listen(Number(port), '127.0.0.1', () => console.log(`ready ${kind} ${port}`));
  // Nothing to flush (every reply came after its work), so stop at once rather than wait for smtp-server's close.
  process.once('SIGTERM', () => process.exit(0));
  process.once('SIGINT', () => process.exit(0));
}

main(process.argv.slice(2));
