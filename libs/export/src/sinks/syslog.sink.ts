import net from 'node:net';
import tls from 'node:tls';
import type { OcsfEvent } from '../ocsf/ocsf-mappers';
import { ExportSinkError, type ExportSink } from './export-sink';

export interface SyslogSettings {
  host: string;
  port: number;
  /** RFC 5425: syslog over TLS (usually port 6514). */
  tls?: boolean;
  caPem?: string;
  verifyTls?: boolean;
  /** Server name for TLS (SNI and certificate check); the host by default. */
  serverName?: string;
  /** RFC 5424 facility (default 13, log audit). */
  facility?: number;
  appName?: string;
  hostname?: string;
  timeoutMs?: number;
}

/** OCSF severity_id → RFC 5424 severity (6 informational … 1 alert). */
const SYSLOG_SEVERITY: Record<number, number> = { 0: 6, 1: 6, 2: 5, 3: 4, 4: 3, 5: 2, 6: 1, 99: 6 };

/** RFC 5424 header fields are PRINTUSASCII without spaces, with a maximum length each. */
const headerField = (value: string, max: number) => value.replace(/[^\x21-\x7e]/g, '_').slice(0, max) || '-';

/**
 * One RFC 5424 message for an event: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID - MSG`, MSGID `ocsf-<class_uid>`,
 * MSG the event as JSON (UTF-8).
 */
export function formatSyslogMessage(event: OcsfEvent, settings: Pick<SyslogSettings, 'facility' | 'appName' | 'hostname'>): string {
  const pri = (settings.facility ?? 13) * 8 + (SYSLOG_SEVERITY[event.severity_id] ?? 6);
  const timestamp = new Date(event.time as number).toISOString();
  return `<${pri}>1 ${timestamp} ${headerField(settings.hostname ?? 'mailwarden', 255)} ${headerField(settings.appName ?? 'mailwarden', 48)} - ocsf-${event.class_uid} - ${JSON.stringify(event)}`;
}

/** RFC 6587 3.4.1 octet counting: `MSG-LEN SP SYSLOG-MSG`, the length in octets. */
export function frameOctetCounted(message: string): Buffer {
  const payload = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${payload.byteLength} `, 'ascii'), payload]);
}

/**
 * Syslog over TCP (RFC 6587 octet counting) or TLS (RFC 5425, which frames the same way). Each batch uses its own
 * connection and ends it: the batch counts as sent once the receiver has read it to the end and closed its side
 * (plain syslog has no application acknowledgement; this is the closest TCP gives).
 */
export class SyslogSink implements ExportSink {
  constructor(private readonly settings: SyslogSettings) {}

  async send(events: readonly OcsfEvent[]): Promise<void> {
    const frames = Buffer.concat(events.map((event) => frameOctetCounted(formatSyslogMessage(event, this.settings))));
    const timeoutMs = this.settings.timeoutMs ?? 30_000;
    await new Promise<void>((resolve, reject) => {
      const target = `${this.settings.host}:${this.settings.port}`;
      const socket = this.settings.tls
        ? tls.connect({
            host: this.settings.host,
            port: this.settings.port,
            servername: this.settings.serverName ?? (net.isIP(this.settings.host) ? undefined : this.settings.host),
            ca: this.settings.caPem || undefined,
            rejectUnauthorized: this.settings.verifyTls !== false,
          })
        : net.connect({ host: this.settings.host, port: this.settings.port });
      let failed = false;
      const fail = (error: Error) => {
        if (!failed) {
          failed = true;
          socket.destroy();
          reject(new ExportSinkError(`syslog ${target}: ${error.message}`));
        }
      };
      socket.setTimeout(timeoutMs, () => fail(new Error(`no progress within ${timeoutMs} ms`)));
      socket.on('error', fail);
      socket.once(this.settings.tls ? 'secureConnect' : 'connect', () => {
        socket.end(frames);
      });
      // The receiver closes its side after reading ours to the end.
      socket.on('data', () => undefined);
      socket.on('close', (hadError) => {
        if (!failed) {
          if (hadError) {
            fail(new Error('connection closed with an error'));
          } else {
            resolve();
          }
        }
      });
    });
  }

  async close(): Promise<void> {}
}
