import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface SyslogRecord {
  pri: number;
  version: number;
  timestamp: string;
  hostname: string;
  appName: string;
  msgId: string;
  /** The MSG part parsed as JSON (the OCSF event). */
  event: Record<string, unknown>;
}

export interface RsyslogReceiver {
  port: number;
  /** Every message written so far, parsed (RFC 5424 header + JSON body). */
  records(): Promise<SyslogRecord[]>;
  stop(): Promise<void>;
  /** Starts rsyslogd again on the same port and file (after stop()). */
  start(): Promise<void>;
  output(): string;
  /** Stops rsyslogd and removes its folder. */
  close(): Promise<void>;
}

const RSYSLOGD = '/usr/sbin/rsyslogd';

/**
 * Debian's rsyslogd, run by the test with a private configuration: imtcp on 127.0.0.1:<port, free> (octet-counted
 * framing, RFC 6587; with `tls`, the gtls driver as RFC 5425 asks), every message written raw to a file of its own.
 */
export async function startRsyslog(options: { port: number; tls?: { keyPem: Buffer; certPem: Buffer } }): Promise<RsyslogReceiver> {
  if (!existsSync(RSYSLOGD)) {
    throw new Error(`${RSYSLOGD} is missing: run \`apt-get install -y rsyslog rsyslog-gnutls\` (npm's pretest step does it as root)`);
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'mw-rsyslog-'));
  const { port } = options;
  const out = path.join(dir, 'out.log');
  const tlsGlobal = options.tls
    ? `global(DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="${dir}/cert.pem" DefaultNetstreamDriverCertFile="${dir}/cert.pem" DefaultNetstreamDriverKeyFile="${dir}/key.pem")`
    : '';
  if (options.tls) {
    await writeFile(path.join(dir, 'cert.pem'), options.tls.certPem);
    await writeFile(path.join(dir, 'key.pem'), options.tls.keyPem);
  }
  const config = `
global(workDirectory="${dir}" maxMessageSize="512k")
${tlsGlobal}
module(load="imtcp" ${options.tls ? 'StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon"' : ''})
template(name="raw" type="string" string="%rawmsg%\\n")
ruleset(name="out") { action(type="omfile" file="${out}" template="raw" flushOnTXEnd="on" asyncWriting="off") }
input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="out" maxFrameSize="500000")
`;
  await writeFile(path.join(dir, 'rsyslog.conf'), config);
  let child: ChildProcess | undefined;
  let log = '';

  const waitForPort = async () => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const open = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
      });
      if (open) {
        return;
      }
      if (Date.now() > deadline || child?.exitCode !== null) {
        throw new Error(`rsyslogd did not listen on ${port}:\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const start = async () => {
    child = spawn(RSYSLOGD, ['-n', '-f', path.join(dir, 'rsyslog.conf'), '-i', path.join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await waitForPort();
  };

  const stop = async () => {
    const running = child;
    if (running && running.exitCode === null && running.signalCode === null) {
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    }
  };

  await start();
  return {
    port,
    output: () => log,
    start,
    async stop() {
      await stop();
    },
    async records() {
      const text = existsSync(out) ? await readFile(out, 'utf8') : '';
      return text
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => {
          const match = /^<(\d+)>(\d) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (.*)$/.exec(line);
          if (!match) {
            throw new Error(`not an RFC 5424 message: ${line.slice(0, 200)}`);
          }
          return { pri: Number(match[1]), version: Number(match[2]), timestamp: match[3]!, hostname: match[4]!, appName: match[5]!, msgId: match[7]!, event: JSON.parse(match[9]!) as Record<string, unknown> };
        });
    },
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
